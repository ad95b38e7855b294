/*
 * policy.h: the gateway configuration, loaded and validated into
 * immutable objects.  No libevent here: the loader reads the global INI
 * file and one INI file per upstream, checks every value, loads every
 * certificate and key into ready wolfSSL contexts, and reports every
 * problem as "file:line: message".  `tlsgw -t` and a real start run the
 * very same code.
 */
#ifndef TLSGW_POLICY_H
#define TLSGW_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "suites.h"

#define POLICY_MAX_SUITES 64

/* Messages collected while loading: every error and warning, already
 * formatted as "file:line: message" (or "file: message"). */
struct diag {
	char **lines;
	size_t nlines;
	size_t nerrors;
	size_t nwarnings;
};

void diag_init(struct diag *d);
void diag_free(struct diag *d);
/* line <= 0 means "no line". */
void diag_error(struct diag *d, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void diag_warn(struct diag *d, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

struct device_conf {
	char *cert, *key;              /* RSA chain and key (PEM) */
	char *cert_ecdsa, *key_ecdsa;  /* ECDSA chain and key (PEM) */
	enum suite_set suite_set;
	uint16_t suites[POLICY_MAX_SUITES]; /* allowed codes, pref. order */
	size_t nsuites;
	uint16_t min_version;          /* TLSV_TLS12 (default) or TLSV_TLS13 */
	char *client_ca;               /* PEM CA file: devices must present a
	                                  certificate it signed; NULL: none */
	char *client_crl;              /* PEM CRL of client_ca; NULL: none */
	char **allow;                  /* identities allowed in: a device
	                                  certificate's subject CN or a
	                                  subjectAltName, any case; only
	                                  with client_ca */
	size_t nallow;                 /* 0: every certificate client_ca
	                                  signed */
	/* Ready server contexts: NULL when that certificate is absent.
	 * Cipher list, versions and groups are set; I/O callbacks are not. */
	WOLFSSL_CTX *ctx_rsa;
	WOLFSSL_CTX *ctx_ecdsa;
};

struct upstream_conf {
	char *host;
	uint16_t port;                 /* default 8883 */
	char *sni;                     /* sent and verified; default host */
	char *ca;                      /* "system" (default) or a PEM path */
	uint16_t min_version;          /* TLSV_TLS13 (default) or TLSV_TLS12 */
	char *alpn;                    /* NULL when not set */
	char *cert, *key;              /* client certificate, NULL if none */
	WOLFSSL_CTX *ctx;              /* ready client context, CA loaded */
};

/* What the client id sent upstream is, when [mqtt] inspect = yes. */
enum mqtt_client_id_mode {
	MQTT_CLIENT_ID_PASSTHROUGH,    /* the device's own (default) */
	MQTT_CLIENT_ID_DEVICE_CN,      /* the device certificate's CN */
	MQTT_CLIENT_ID_PREFIX,         /* client_id_prefix + the device's */
};

/* The [mqtt] section: what the gateway may do to the device's CONNECT. */
struct mqtt_conf {
	bool inspect;                  /* read the CONNECT (default no) */
	enum mqtt_client_id_mode client_id_mode;
	char *client_id_prefix;        /* MQTT_CLIENT_ID_PREFIX only */
	char *username;                /* put into CONNECT; NULL: keep */
	char *password_file;           /* path, as resolved; NULL: none */
	char *password;                /* first line of password_file, read
	                                  at load, NUL-terminated; wiped by
	                                  policy_free(); NULL when inspect =
	                                  no or no password_file */
	size_t password_len;           /* bytes in password, NUL excluded */
	size_t max_connect_size;       /* largest CONNECT packet (fixed
	                                  header included) taken from a
	                                  device; default 8192 */
};

struct policy {
	char *name;                    /* file name without ".ini" */
	char *file;                    /* path of the policy file */
	char *listen_address;          /* as written: "127.0.0.1:8883" */
	unsigned max_connections;      /* 0: only the global limit */
	struct sockaddr_storage listen_addr;
	socklen_t listen_addrlen;
	char *listen_sni;              /* NULL: the address's default; else
	                                  the names, lower case, joined by
	                                  "," (for logs) */
	char **listen_snis;            /* the names one by one, lower case:
	                                  "host.lan" or "*.gw.lan" */
	size_t nlisten_snis;
	struct device_conf device;
	struct upstream_conf upstream;
	struct mqtt_conf mqtt;
};

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG };

struct gateway_conf {
	char *file;                    /* path of the global file */
	char *policy_dir;
	char *user;                    /* NULL: do not switch user */
	unsigned workers;              /* 0 = auto */
	enum log_level log_level;      /* default info */
	unsigned max_connections;      /* default 10000 */
	unsigned max_connections_per_source; /* 0: no limit; default 100 */
	unsigned handshakes_per_source; /* per second, 0: no limit; 20 */
	unsigned handshake_timeout;    /* seconds, default 10 */
	unsigned idle_timeout;         /* seconds, default 300 */
	size_t buffer_size;            /* bytes queued per direction, 64 KiB */
	bool core_dumps;               /* default no: keys stay out of cores */
	unsigned drain_timeout;        /* seconds live connections may drain
	                                  on SIGTERM/SIGINT, default 10 */
	struct policy **policies;      /* sorted by file name */
	size_t npolicies;
};

/*
 * Load the global file at path, then every *.ini in its policy_dir
 * (relative paths are taken relative to the global file's directory),
 * validate everything and build the wolfSSL contexts.  Every problem
 * goes to d.  Returns the configuration, or NULL when d holds at least
 * one error.  wolfSSL_Init() must have been called.
 */
struct gateway_conf *policy_load(const char *path, struct diag *d);

/* Free a configuration and every context it owns.  NULL is fine. */
void policy_free(struct gateway_conf *conf);

/*
 * The policy for a hello that arrived on a listener bound to addr with
 * the given SNI (NULL or "" when none).  Names compare without regard to
 * case and to one trailing dot.  On that address: the policy listing the
 * exact name, else the one with the longest matching wildcard ("*.gw.lan"
 * matches "a.gw.lan", not "gw.lan" nor "a.b.gw.lan"), else the one without
 * sni (the default; also for hellos without SNI or whose SNI is an IP
 * literal).  NULL when none fits.
 */
const struct policy *policy_route(const struct gateway_conf *conf,
    const struct sockaddr *addr, socklen_t addrlen, const char *sni);

/* True when name (a hello's SNI) matches pattern (an exact name or a
 * "*." wildcard, as in listen_snis). */
bool policy_sni_match(const char *pattern, const char *name);

/* Overwrite n bytes at p with zeros in a way the compiler cannot drop
 * (for secrets about to be freed). */
void policy_wipe(void *p, size_t n);

/* Longest password_file accepted, in bytes. */
#define POLICY_MAX_PASSWORD_FILE 4096

/*
 * The options, as one table that drives parsing, validation and the
 * documentation (tmux options-table style).  Every option of a file
 * appears here; nothing else is accepted.
 */
enum policy_opt_type {
	POPT_STRING,    /* free text */
	POPT_PATH,      /* file or directory; relative: to the global file */
	POPT_HOST,      /* DNS name or IP literal */
	POPT_UINT,      /* decimal number in min..max */
	POPT_SIZE,      /* bytes, or a number followed by k or m, in min..max */
	POPT_CHOICE,    /* one of choices[], stored as its index */
	POPT_WORKERS,   /* "auto" (stored as 0) or a number in min..max */
	POPT_ADDRESS,   /* numeric "IPv4:port" or "[IPv6]:port" */
	POPT_VERSION,   /* TLS version "1.2" or "1.3" (min..max, wire codes) */
	POPT_SUITES,    /* modern | compat | legacy | list of suite names */
	POPT_CA,        /* "system" or a PEM file */
	POPT_ALPN,      /* comma-separated ALPN protocol names */
	POPT_BOOL,      /* yes|no (also true|false, on|off, 1|0), a bool */
	POPT_LIST,      /* names separated by commas or blanks: a char **
	                   at offset, its length (size_t) at offset2 */
	POPT_SNI,       /* DNS names or "*." wildcards, comma or blank
	                   separated: joined char * at offset, char ** at
	                   offset2, size_t count at offset3 */
	POPT_CLIENT_ID, /* passthrough | device-cn | prefix:TEXT: the enum
	                   at offset, the prefix (char *) at offset2 */
};

enum policy_opt_file {
	POPT_GLOBAL,    /* the global file, tlsgw.ini */
	POPT_POLICY,    /* a policy file, upstreams.d/NAME.ini */
};

#define POPT_REQUIRED    0x01   /* must be written */
#define POPT_WARN_TLS12  0x02   /* POPT_VERSION: 1.2 accepted with a warning */

struct policy_option {
	const char *name;
	enum policy_opt_file file;
	const char *section;           /* without brackets */
	enum policy_opt_type type;
	long long min, max;            /* POPT_UINT/SIZE/WORKERS/VERSION */
	const char *const *choices;    /* POPT_CHOICE, NULL-terminated */
	const char *def;               /* default as written; NULL: none */
	int flags;                     /* POPT_REQUIRED, ... */
	/* Where the value goes, in struct gateway_conf (POPT_GLOBAL) or
	 * struct policy (POPT_POLICY).  POPT_ADDRESS also fills the
	 * sockaddr at offset2 and its length at offset3; see the types
	 * for the others that use offset2 and offset3. */
	size_t offset, size, offset2, offset3;
	const char *arg;               /* the value as the documentation
	                                  shows it ("seconds"); NULL: from
	                                  the type */
	const char *help;
};

extern const struct policy_option policy_options[];
extern const size_t policy_noptions;

/* Longest line accepted in any file, in characters. */
#define POLICY_MAX_LINE 200

#endif
