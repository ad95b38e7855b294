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
	char **allow;                  /* identities allowed; none: any */
	size_t nallow;
	/* Ready server contexts: NULL when that certificate is absent.
	 * Cipher list, versions and groups are set; I/O callbacks are not. */
	WOLFSSL_CTX *ctx_rsa;
	WOLFSSL_CTX *ctx_ecdsa;
};

enum mqtt_client_id_mode {
	MQTT_CLIENT_ID_PASSTHROUGH,
	MQTT_CLIENT_ID_DEVICE_CN,
	MQTT_CLIENT_ID_PREFIX,
};

struct mqtt_conf {
	bool inspect;
	enum mqtt_client_id_mode client_id_mode;
	char *client_id_prefix;
	char *username;
	char *password;
	size_t password_len;
	size_t max_connect_size;
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

struct policy {
	char *name;                    /* file name without ".ini" */
	char *file;                    /* path of the policy file */
	char *listen_address;          /* as written: "127.0.0.1:8883" */
	struct sockaddr_storage listen_addr;
	socklen_t listen_addrlen;
	char *listen_sni;              /* NULL: serves every hello */
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
	unsigned handshake_timeout;    /* seconds, default 10 */
	unsigned idle_timeout;         /* seconds, default 300 */
	size_t buffer_size;            /* bytes queued per direction, 64 KiB */
	unsigned drain_timeout;        /* seconds to drain on SIGTERM */
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

/* The policy for a hello that arrived on a listener bound to addr with
 * the given SNI (NULL or "" when none): the policy whose listen_sni
 * matches, else the one without listen_sni on that address.  NULL when
 * none fits. */
const struct policy *policy_route(const struct gateway_conf *conf,
    const struct sockaddr *addr, socklen_t addrlen, const char *sni);

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
	 * sockaddr at offset2 and its length at offset3. */
	size_t offset, size, offset2, offset3;
	const char *help;
};

extern const struct policy_option policy_options[];
extern const size_t policy_noptions;

/* Longest line accepted in any file, in characters. */
#define POLICY_MAX_LINE 200

#endif
