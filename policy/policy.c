/*
 * policy.c: reading tlsgw.ini and upstreams.d/NAME.ini into a validated,
 * immutable configuration with ready wolfSSL contexts.
 *
 * inih splits "key = value"; everything else is ours.  Our line reader
 * counts lines (so every message gets file:line whatever inih's build
 * options), refuses over-long lines that inih would cut silently, strips
 * comments and indentation (so inih's multi-line mode never applies),
 * and reports syntax errors and unknown sections itself.  The option
 * table below drives parsing, validation, defaults and documentation.
 * Every problem in every file is collected before the load fails.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/types.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "policy.h"
#include "suites.h"
#include "tlsctx.h"

#define G(m) .offset = offsetof(struct gateway_conf, m), \
	.size = sizeof(((struct gateway_conf *)0)->m)
#define P(m) .offset = offsetof(struct policy, m), \
	.size = sizeof(((struct policy *)0)->m)

static const char *const policy_log_levels[] = {
	"error", "warn", "info", "debug", NULL
};

const struct policy_option policy_options[] = {
	/* tlsgw.ini */
	{ .name = "policy_dir", .file = POPT_GLOBAL, .section = "gateway",
	  .type = POPT_PATH, .def = "upstreams.d", G(policy_dir),
	  .help = "Directory of policy files, one NAME.ini per upstream, "
	  "read in name order." },
	{ .name = "user", .file = POPT_GLOBAL, .section = "gateway",
	  .type = POPT_STRING, G(user),
	  .help = "Account to switch to after binding the listeners and "
	  "loading the keys; unset: keep the starting user." },
	{ .name = "workers", .file = POPT_GLOBAL, .section = "gateway",
	  .type = POPT_WORKERS, .min = 1, .max = 64, .def = "auto",
	  G(workers),
	  .help = "Worker processes, each with its own event loop and "
	  "socket per port; auto: one per CPU (a single-core router runs "
	  "one process).  A device address always meets the same worker, "
	  "and the connection limits hold for the whole gateway.  Read at "
	  "start; a reload keeps the running number." },
	{ .name = "log_level", .file = POPT_GLOBAL, .section = "gateway",
	  .type = POPT_CHOICE, .choices = policy_log_levels, .def = "info",
	  G(log_level), .help = "Least important messages logged." },
	{ .name = "max_connections", .file = POPT_GLOBAL, .section = "gateway",
	  .type = POPT_UINT, .min = 1, .max = 1000000, .def = "10000",
	  G(max_connections), .arg = "number",
	  .help = "Device connections served at once; more are refused "
	  "with a log line." },
	{ .name = "max_connections_per_source", .file = POPT_GLOBAL,
	  .section = "gateway", .type = POPT_UINT, .min = 0, .max = 1000000,
	  .def = "100", G(max_connections_per_source), .arg = "number",
	  .help = "Connections one device address may hold at once; more "
	  "are refused with a log line. 0: no limit." },
	{ .name = "handshakes_per_source", .file = POPT_GLOBAL,
	  .section = "gateway", .type = POPT_UINT, .min = 0, .max = 100000,
	  .def = "20", G(handshakes_per_source), .arg = "per-second",
	  .help = "New connections one device address may open per second "
	  "(bursts of twice as many); more are refused with a log line. "
	  "0: no limit." },
	{ .name = "handshake_timeout", .file = POPT_GLOBAL,
	  .section = "gateway", .type = POPT_UINT, .min = 1, .max = 300,
	  .def = "10", G(handshake_timeout), .arg = "seconds",
	  .help = "Seconds a device has to complete its TLS handshake." },
	{ .name = "idle_timeout", .file = POPT_GLOBAL, .section = "gateway",
	  .type = POPT_UINT, .min = 0, .max = 86400, .def = "300",
	  G(idle_timeout), .arg = "seconds",
	  .help = "Seconds without traffic either way before a connection "
	  "is closed; 0: never." },
	{ .name = "buffer_size", .file = POPT_GLOBAL, .section = "gateway",
	  .type = POPT_SIZE, .min = 4096, .max = 16777216, .def = "65536",
	  G(buffer_size), .arg = "bytes",
	  .help = "Bytes queued per direction and connection before the "
	  "sender is paused; k and m suffixes allowed." },
	{ .name = "drain_timeout", .file = POPT_GLOBAL, .section = "gateway",
	  .type = POPT_UINT, .min = 0, .max = 3600, .def = "10",
	  G(drain_timeout), .arg = "seconds",
	  .help = "On SIGTERM or SIGINT the gateway stops accepting and lets "
	  "live connections finish for up to this many seconds, then closes "
	  "the rest (close_notify both ways); 0: close them at once.  A "
	  "second signal closes them at once too." },
	{ .name = "core_dumps", .file = POPT_GLOBAL, .section = "gateway",
	  .type = POPT_BOOL, .def = "no", G(core_dumps), .arg = "yes|no",
	  .help = "Allow core dumps.  Off by default: a core dump of tlsgw "
	  "holds its private keys and the upstream passwords." },

	/* upstreams.d/NAME.ini: [listen] */
	{ .name = "address", .file = POPT_POLICY, .section = "listen",
	  .type = POPT_ADDRESS, .flags = POPT_REQUIRED, P(listen_address),
	  .offset2 = offsetof(struct policy, listen_addr),
	  .offset3 = offsetof(struct policy, listen_addrlen),
	  .help = "Local address devices connect to: numeric IPv4:port or "
	  "[IPv6]:port." },
	{ .name = "max_connections", .file = POPT_POLICY, .section = "listen",
	  .type = POPT_UINT, .min = 0, .max = 1000000, .def = "0",
	  P(max_connections), .arg = "number",
	  .help = "Devices this policy serves at once; more are refused "
	  "with a log line. 0: only the global limit applies." },
	{ .name = "sni", .file = POPT_POLICY, .section = "listen",
	  .type = POPT_SNI, P(listen_sni),
	  .offset2 = offsetof(struct policy, listen_snis),
	  .offset3 = offsetof(struct policy, nlisten_snis), .arg = "names",
	  .help = "Serve only hellos whose SNI is one of these names, "
	  "separated by commas or blanks: exact DNS names, or wildcards "
	  "such as *.gw.lan (matches a.gw.lan, not gw.lan nor a.b.gw.lan); "
	  "case does not matter.  Policies may share an address: a hello "
	  "goes to the policy naming it exactly, else to the longest "
	  "matching wildcard, else to the one policy on that address "
	  "without sni, which also serves hellos without SNI or with an IP "
	  "address as SNI." },

	/* [device] */
	{ .name = "cert", .file = POPT_POLICY, .section = "device",
	  .type = POPT_PATH, P(device.cert),
	  .help = "RSA certificate chain (PEM, leaf first) shown to devices "
	  "that cannot do ECDSA." },
	{ .name = "key", .file = POPT_POLICY, .section = "device",
	  .type = POPT_PATH, P(device.key),
	  .help = "Private key of cert (PEM, not encrypted)." },
	{ .name = "cert_ecdsa", .file = POPT_POLICY, .section = "device",
	  .type = POPT_PATH, P(device.cert_ecdsa),
	  .help = "ECDSA certificate chain (PEM, leaf first) shown to "
	  "devices that offer ECDSA." },
	{ .name = "key_ecdsa", .file = POPT_POLICY, .section = "device",
	  .type = POPT_PATH, P(device.key_ecdsa),
	  .help = "Private key of cert_ecdsa (PEM, not encrypted)." },
	{ .name = "suites", .file = POPT_POLICY, .section = "device",
	  .type = POPT_SUITES, .def = "compat", P(device),
	  .help = "modern, compat, legacy (adds static RSA), or a list of "
	  "IANA or OpenSSL-style suite names in preference order." },
	{ .name = "min_version", .file = POPT_POLICY, .section = "device",
	  .type = POPT_VERSION, .min = TLSV_TLS12, .max = TLSV_TLS13,
	  .def = "1.2", P(device.min_version),
	  .help = "Lowest TLS version devices may use: 1.2 or 1.3." },
	{ .name = "client_ca", .file = POPT_POLICY, .section = "device",
	  .type = POPT_PATH, P(device.client_ca),
	  .help = "CA certificates (PEM); when set, devices must present a "
	  "certificate signed by one of them." },
	{ .name = "client_crl", .file = POPT_POLICY, .section = "device",
	  .type = POPT_PATH, P(device.client_crl), .arg = "file",
	  .help = "CRL (PEM) of client_ca, such as the crl.pem of tlsgw pki: "
	  "devices it lists are refused." },
	{ .name = "allow", .file = POPT_POLICY, .section = "device",
	  .type = POPT_LIST, P(device.allow),
	  .offset2 = offsetof(struct policy, device.nallow),
	  .arg = "identities",
	  .help = "Only devices whose certificate names one of these "
	  "identities (separated by commas or blanks) in its subject CN or a "
	  "subjectAltName may connect; case does not matter.  Unset: every "
	  "certificate client_ca signed.  Needs client_ca." },

	/* [upstream] */
	{ .name = "host", .file = POPT_POLICY, .section = "upstream",
	  .type = POPT_HOST, .flags = POPT_REQUIRED, P(upstream.host),
	  .help = "The broker's host name or IP address." },
	{ .name = "port", .file = POPT_POLICY, .section = "upstream",
	  .type = POPT_UINT, .min = 1, .max = 65535, .def = "8883",
	  P(upstream.port), .arg = "port", .help = "The broker's TLS port." },
	{ .name = "sni", .file = POPT_POLICY, .section = "upstream",
	  .type = POPT_HOST, P(upstream.sni),
	  .help = "Name sent as SNI and verified in the broker's "
	  "certificate; default: host." },
	{ .name = "ca", .file = POPT_POLICY, .section = "upstream",
	  .type = POPT_CA, .def = "system", P(upstream.ca),
	  .help = "Trusted CAs for the broker: system, or a PEM file." },
	{ .name = "min_version", .file = POPT_POLICY, .section = "upstream",
	  .type = POPT_VERSION, .min = TLSV_TLS12, .max = TLSV_TLS13,
	  .def = "1.3", .flags = POPT_WARN_TLS12, P(upstream.min_version),
	  .help = "Lowest TLS version towards the broker: 1.3, or 1.2 "
	  "(with a warning)." },
	{ .name = "alpn", .file = POPT_POLICY, .section = "upstream",
	  .type = POPT_ALPN, P(upstream.alpn),
	  .help = "ALPN protocols offered to the broker, comma-separated "
	  "(AWS IoT on port 443: x-amzn-mqtt-ca)." },
	{ .name = "cert", .file = POPT_POLICY, .section = "upstream",
	  .type = POPT_PATH, P(upstream.cert),
	  .help = "Client certificate chain (PEM) for brokers that want "
	  "mutual TLS." },
	{ .name = "key", .file = POPT_POLICY, .section = "upstream",
	  .type = POPT_PATH, P(upstream.key),
	  .help = "Private key of the client certificate (PEM)." },

	/* [mqtt] */
	{ .name = "inspect", .file = POPT_POLICY, .section = "mqtt",
	  .type = POPT_BOOL, .def = "no", P(mqtt.inspect),
	  .help = "Read the device's MQTT CONNECT (the first packet) and "
	  "apply client_id, username and password_file to it before it "
	  "goes upstream; everything after it passes untouched.  The other "
	  "[mqtt] keys have no effect without inspect = yes." },
	{ .name = "client_id", .file = POPT_POLICY, .section = "mqtt",
	  .type = POPT_CLIENT_ID, .def = "passthrough",
	  P(mqtt.client_id_mode),
	  .offset2 = offsetof(struct policy, mqtt.client_id_prefix),
	  .help = "The client id sent upstream: passthrough keeps the "
	  "device's; device-cn replaces it with the CN of the device's "
	  "certificate (needs client_ca), so a device cannot take another's "
	  "session; prefix:TEXT puts TEXT (printable ASCII, no blanks, at "
	  "most 64 characters) before the device's own." },
	{ .name = "username", .file = POPT_POLICY, .section = "mqtt",
	  .type = POPT_STRING, P(mqtt.username), .arg = "name",
	  .help = "User name put into the CONNECT, replacing the device's; "
	  "needs password_file." },
	{ .name = "password_file", .file = POPT_POLICY, .section = "mqtt",
	  .type = POPT_PATH, P(mqtt.password_file),
	  .help = "File whose first line (without its line end) is the "
	  "password put into the CONNECT, replacing the device's; read at "
	  "start and on reload, at most 4096 bytes, never logged.  Keep it "
	  "readable by the gateway only (mode 0600 or 0400).  Needs "
	  "username." },
	{ .name = "max_connect_size", .file = POPT_POLICY, .section = "mqtt",
	  .type = POPT_SIZE, .min = 128, .max = 65536, .def = "8192",
	  P(mqtt.max_connect_size),
	  .help = "Largest CONNECT packet accepted from a device, in bytes "
	  "(fixed header included; k suffix allowed); a device sending a "
	  "larger one is disconnected." },
};

#define POLICY_NOPTS (sizeof policy_options / sizeof policy_options[0])
const size_t policy_noptions = POLICY_NOPTS;

/* The sections each kind of file may have. */
static const struct {
	const char *name;
	enum policy_opt_file file;
} policy_sections[] = {
	{ "gateway", POPT_GLOBAL },
	{ "listen", POPT_POLICY },
	{ "device", POPT_POLICY },
	{ "upstream", POPT_POLICY },
	{ "mqtt", POPT_POLICY },
};

#define POLICY_NSECTIONS (sizeof policy_sections / sizeof policy_sections[0])

/* State while one file is read. */
struct policy_load {
	struct diag *d;
	const char *file;
	const char *basedir;           /* absolute dir of the global file */
	enum policy_opt_file kind;
	void *base;                    /* struct gateway_conf or policy */
	FILE *fp;
	char *buf;
	size_t bufsz;
	int line;                      /* last line handed to inih */
	bool written;                  /* false while applying defaults */
	int section_line[POLICY_NSECTIONS];
	int set_line[POLICY_NOPTS];    /* 0: not written */
	bool bad[POLICY_NOPTS];        /* written with a bad value */
};

static char *
policy_strdup(struct policy_load *l, const char *s)
{
	char *c = strdup(s);

	if (c == NULL)
		diag_error(l->d, l->file, l->line, "out of memory");
	return c;
}

/* dir + "/" + name, or name alone when it is absolute. */
static char *
policy_join(const char *dir, const char *name)
{
	char *out;
	size_t len;

	if (name[0] == '/' || dir == NULL)
		return strdup(name);
	len = strlen(dir) + strlen(name) + 2;
	if ((out = malloc(len)) != NULL)
		snprintf(out, len, "%s%s%s", dir,
		    dir[0] != '\0' && dir[strlen(dir) - 1] == '/' ? "" : "/",
		    name);
	return out;
}

/* The global file's directory as an absolute path, so that a later
 * chdir (daemonising, reload) cannot change what relative paths mean. */
static char *
policy_basedir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *cwd, *out;

	if (slash == path)
		return strdup("/");
	dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
	if (dir == NULL || dir[0] == '/')
		return dir;
	if ((cwd = getcwd(NULL, 0)) == NULL)
		return dir;
	out = strcmp(dir, ".") == 0 ? strdup(cwd) : policy_join(cwd, dir);
	free(cwd);
	free(dir);
	return out;
}

/* Store an unsigned value into a field of 1, 2, 4 or 8 bytes. */
static void
policy_store_uint(void *dst, size_t size, unsigned long long v)
{
	uint8_t v8 = (uint8_t)v;
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;
	uint64_t v64 = (uint64_t)v;

	switch (size) {
	case 1:
		memcpy(dst, &v8, 1);
		break;
	case 2:
		memcpy(dst, &v16, 2);
		break;
	case 4:
		memcpy(dst, &v32, 4);
		break;
	case 8:
		memcpy(dst, &v64, 8);
		break;
	}
}

/* Replace the string in a char * field. */
static void
policy_store_str(void *dst, char *s)
{
	char **p = dst;

	free(*p);
	*p = s;
}

/* Decimal digits only, no sign, no blanks: strtoull is too lenient. */
static bool
policy_number(const char *s, unsigned long long *out)
{
	unsigned long long v = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
		if (v > (ULLONG_MAX - 9) / 10)
			return false;
		v = v * 10 + (unsigned)(*s - '0');
	}
	*out = v;
	return true;
}

/* A number that must lie in the option's range. */
static int
policy_check_range(struct policy_load *l, const struct policy_option *o,
    const char *value, unsigned long long v)
{
	if ((long long)v < o->min || v > (unsigned long long)o->max) {
		diag_error(l->d, l->file, l->line, "%s: %s is out of range "
		    "(%lld..%lld)", o->name, value, o->min, o->max);
		return -1;
	}
	return 0;
}

static int
policy_parse_uint(struct policy_load *l, const struct policy_option *o,
    const char *value, void *dst)
{
	unsigned long long v;

	if (!policy_number(value, &v)) {
		diag_error(l->d, l->file, l->line, "%s: \"%s\" is not a number",
		    o->name, value);
		return -1;
	}
	if (policy_check_range(l, o, value, v) != 0)
		return -1;
	policy_store_uint(dst, o->size, v);
	return 0;
}

/* Bytes, "64k" or "1m" (powers of 1024). */
static int
policy_parse_size(struct policy_load *l, const struct policy_option *o,
    const char *value, void *dst)
{
	unsigned long long v, mult = 1;
	size_t len = strlen(value);
	char digits[32];

	if (len > 0 && strchr("kKmM", value[len - 1]) != NULL) {
		mult = tolower((unsigned char)value[len - 1]) == 'k' ?
		    1024 : 1024 * 1024;
		len--;
	}
	if (len == 0 || len >= sizeof digits)
		goto bad;
	memcpy(digits, value, len);
	digits[len] = '\0';
	if (!policy_number(digits, &v) || v > ULLONG_MAX / mult)
		goto bad;
	v *= mult;
	if (policy_check_range(l, o, value, v) != 0)
		return -1;
	policy_store_uint(dst, o->size, v);
	return 0;
bad:
	diag_error(l->d, l->file, l->line, "%s: \"%s\" is not a size (a number "
	    "of bytes, or with k or m)", o->name, value);
	return -1;
}

/* "auto" is 0: the daemon picks one worker per CPU. */
static int
policy_parse_workers(struct policy_load *l, const struct policy_option *o,
    const char *value, void *dst)
{
	unsigned long long v;

	if (strcasecmp(value, "auto") == 0) {
		policy_store_uint(dst, o->size, 0);
		return 0;
	}
	if (!policy_number(value, &v)) {
		diag_error(l->d, l->file, l->line, "%s: \"%s\" is not auto or a "
		    "number", o->name, value);
		return -1;
	}
	if (policy_check_range(l, o, value, v) != 0)
		return -1;
	policy_store_uint(dst, o->size, v);
	return 0;
}

/* A word from the option's list, stored as its index (the enum). */
static int
policy_parse_choice(struct policy_load *l, const struct policy_option *o,
    const char *value, void *dst)
{
	char list[128] = "";
	size_t i;

	for (i = 0; o->choices[i] != NULL; i++) {
		if (strcasecmp(value, o->choices[i]) == 0) {
			policy_store_uint(dst, o->size, i);
			return 0;
		}
	}
	for (i = 0; o->choices[i] != NULL; i++) {
		if (i > 0)
			strncat(list, ", ", sizeof list - strlen(list) - 1);
		strncat(list, o->choices[i], sizeof list - strlen(list) - 1);
	}
	diag_error(l->d, l->file, l->line, "%s: \"%s\" is not one of: %s",
	    o->name, value, list);
	return -1;
}

static int
policy_parse_string(struct policy_load *l, const struct policy_option *o,
    const char *value, void *dst)
{
	char *s = policy_strdup(l, value);

	(void)o;
	if (s == NULL)
		return -1;
	policy_store_str(dst, s);
	return 0;
}

static int
policy_parse_path(struct policy_load *l, const struct policy_option *o,
    const char *value, void *dst)
{
	char *s = policy_join(l->basedir, value);

	(void)o;
	if (s == NULL) {
		diag_error(l->d, l->file, l->line, "out of memory");
		return -1;
	}
	policy_store_str(dst, s);
	return 0;
}

/* "system" stays a word; anything else is a path. */
static int
policy_parse_ca(struct policy_load *l, const struct policy_option *o,
    const char *value, void *dst)
{
	if (strcasecmp(value, "system") == 0)
		return policy_parse_string(l, o, "system", dst);
	return policy_parse_path(l, o, value, dst);
}

/* True for a DNS name (letters, digits, '-', '_', dots between labels)
 * or an IPv4/IPv6 literal. */
static bool
policy_host_ok(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	size_t len = strlen(s), i;

	if (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1)
		return true;
	if (len == 0 || len > 253 || s[0] == '.' || s[0] == '-')
		return false;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_' && s[i] != '.')
			return false;
		if (s[i] == '.' && s[i + 1] == '.')
			return false;
	}
	return true;
}

static int
policy_parse_host(struct policy_load *l, const struct policy_option *o,
    const char *value, void *dst)
{
	if (!policy_host_ok(value)) {
		diag_error(l->d, l->file, l->line, "%s: \"%s\" is not a valid "
		    "host name", o->name, value);
		return -1;
	}
	return policy_parse_string(l, o, value, dst);
}

/* Split "IPv4:port" or "[IPv6]:port" into host and port; false when the
 * shape is wrong. */
static bool
policy_split_address(const char *value, char *host, size_t hostlen,
    const char **port)
{
	const char *end, *colon;
	size_t len;

	if (value[0] == '[') {
		if ((end = strchr(value, ']')) == NULL || end[1] != ':')
			return false;
		len = (size_t)(end - value - 1);
		value++;
		*port = end + 2;
	} else {
		colon = strrchr(value, ':');
		if (colon == NULL || strchr(value, ':') != colon)
			return false;
		len = (size_t)(colon - value);
		*port = colon + 1;
	}
	if (len == 0 || len >= hostlen)
		return false;
	memcpy(host, value, len);
	host[len] = '\0';
	return true;
}

/* A listen address: numeric only (no resolver at start-up), kept as
 * written for logs and as a sockaddr for bind and routing. */
static int
policy_parse_address(struct policy_load *l, const struct policy_option *o,
    const char *value, void *dst)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2], *text;
	struct addrinfo hints, *ai = NULL;
	const char *port;
	unsigned long long p;

	if (!policy_split_address(value, host, sizeof host, &port))
		goto bad;
	if (!policy_number(port, &p) || p < 1 || p > 65535) {
		diag_error(l->d, l->file, l->line, "%s: port \"%s\" is out of "
		    "range (1..65535)", o->name, port);
		return -1;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = value[0] == '[' ? AF_INET6 : AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if (getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL ||
	    ai->ai_addrlen > sizeof(struct sockaddr_storage))
		goto bad;
	if ((text = policy_strdup(l, value)) == NULL) {
		freeaddrinfo(ai);
		return -1;
	}
	policy_store_str(dst, text);
	memset((char *)l->base + o->offset2, 0,
	    sizeof(struct sockaddr_storage));
	memcpy((char *)l->base + o->offset2, ai->ai_addr, ai->ai_addrlen);
	memcpy((char *)l->base + o->offset3, &ai->ai_addrlen,
	    sizeof(socklen_t));
	freeaddrinfo(ai);
	return 0;
bad:
	if (ai != NULL)
		freeaddrinfo(ai);
	diag_error(l->d, l->file, l->line, "%s: \"%s\" is not a numeric "
	    "IPv4:port or [IPv6]:port", o->name, value);
	return -1;
}

/* "1.2" or "1.3"; older versions are named, to say they are refused. */
static int
policy_parse_version(struct policy_load *l, const struct policy_option *o,
    const char *value, void *dst)
{
	uint16_t v;

	if (strcmp(value, "1.0") == 0)
		v = TLSV_TLS10;
	else if (strcmp(value, "1.1") == 0)
		v = TLSV_TLS11;
	else if (strcmp(value, "1.2") == 0)
		v = TLSV_TLS12;
	else if (strcmp(value, "1.3") == 0)
		v = TLSV_TLS13;
	else {
		diag_error(l->d, l->file, l->line, "%s: \"%s\" is not a TLS "
		    "version (1.2 or 1.3)", o->name, value);
		return -1;
	}
	if (v < o->min || v > o->max) {
		diag_error(l->d, l->file, l->line, "%s: TLS %s is not "
		    "supported (use 1.2 or 1.3)", o->name, value);
		return -1;
	}
	if (v == TLSV_TLS12 && (o->flags & POPT_WARN_TLS12) && l->written)
		diag_warn(l->d, l->file, l->line, "%s = 1.2 lets the upstream "
		    "leg fall back to TLS 1.2", o->name);
	policy_store_uint(dst, o->size, v);
	return 0;
}

/* One ALPN protocol name: 1..255 printable characters, no blanks. */
static bool
policy_alpn_token_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 255)
		return false;
	for (i = 0; i < len; i++) {
		if (!isgraph((unsigned char)s[i]))
			return false;
	}
	return true;
}

/* "a, b" is stored as "a,b", the form wolfSSL_UseALPN takes. */
static int
policy_parse_alpn(struct policy_load *l, const struct policy_option *o,
    const char *value, void *dst)
{
	char *out, *w;
	const char *s = value, *e;
	size_t len;

	if ((out = calloc(1, strlen(value) + 1)) == NULL) {
		diag_error(l->d, l->file, l->line, "out of memory");
		return -1;
	}
	w = out;
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		e = s + strcspn(s, ",");
		len = (size_t)(e - s);
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (!policy_alpn_token_ok(s, len)) {
			diag_error(l->d, l->file, l->line, "%s: \"%s\" is not a "
			    "list of protocol names", o->name, value);
			free(out);
			return -1;
		}
		if (w != out)
			*w++ = ',';
		memcpy(w, s, len);
		w += len;
		if (*e == '\0')
			break;
		s = e + 1;
	}
	policy_store_str(dst, out);
	return 0;
}

/* Look up one token of an explicit suite list: a name or "0xC02F". */
static const struct suite_info *
policy_suite_token(const char *tok)
{
	unsigned long code;
	char *end;

	if (strncasecmp(tok, "0x", 2) == 0) {
		code = strtoul(tok + 2, &end, 16);
		if (*end != '\0' || end == tok + 2 || code > 0xFFFF)
			return NULL;
		return suite_find((uint16_t)code);
	}
	return suite_find_name(tok);
}

/* Add one named suite to an explicit list; false after an error. */
static bool
policy_suite_add(struct policy_load *l, struct device_conf *dev,
    const char *tok)
{
	const struct suite_info *s = policy_suite_token(tok);
	size_t i;

	if (s == NULL) {
		diag_error(l->d, l->file, l->line, "suites: unknown suite "
		    "\"%s\" (use modern, compat, legacy or a list of suite "
		    "names)", tok);
		return false;
	}
	if (!suite_is_allowable(s)) {
		diag_error(l->d, l->file, l->line, "suites: %s is never "
		    "allowed (%s)", s->iana,
		    s->weakness ? s->weakness : "not supported");
		return false;
	}
	for (i = 0; i < dev->nsuites; i++) {
		if (dev->suites[i] == s->code) {
			diag_warn(l->d, l->file, l->line, "suites: %s is listed "
			    "twice", s->iana);
			return true;
		}
	}
	if (dev->nsuites == POLICY_MAX_SUITES) {
		diag_error(l->d, l->file, l->line, "suites: more than %d "
		    "suites", POLICY_MAX_SUITES);
		return false;
	}
	dev->suites[dev->nsuites++] = s->code;
	return true;
}

/* Static RSA in an explicit list is allowed, loudly. */
static void
policy_warn_static_rsa(struct policy_load *l, const struct device_conf *dev)
{
	char names[1024] = "";
	size_t i, n = 0;

	for (i = 0; i < dev->nsuites; i++) {
		const struct suite_info *s = suite_find(dev->suites[i]);

		if (s == NULL || s->kx != KX_RSA)
			continue;
		if (n++ > 0)
			strncat(names, ", ", sizeof names - strlen(names) - 1);
		strncat(names, s->iana, sizeof names - strlen(names) - 1);
	}
	if (n > 0)
		diag_warn(l->d, l->file, l->line, "suites: %s use%s static RSA "
		    "key exchange: no forward secrecy on the device leg",
		    names, n == 1 ? "s" : "");
}

/* An explicit list, separated by commas, colons or blanks: every bad
 * entry is reported, not only the first. */
static int
policy_parse_explicit(struct policy_load *l, struct device_conf *dev,
    const char *value)
{
	char *copy, *tok, *save = NULL;
	bool ok = true;

	if ((copy = policy_strdup(l, value)) == NULL)
		return -1;
	dev->nsuites = 0;
	for (tok = strtok_r(copy, ",: \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ",: \t", &save))
		ok &= policy_suite_add(l, dev, tok);
	free(copy);
	if (ok && dev->nsuites == 0) {
		diag_error(l->d, l->file, l->line, "suites: empty list");
		ok = false;
	}
	if (!ok)
		return -1;
	dev->suite_set = SUITE_SET_EXPLICIT;
	policy_warn_static_rsa(l, dev);
	return 0;
}

/* A set name, or else an explicit list. */
static int
policy_parse_suites(struct policy_load *l, const struct policy_option *o,
    const char *value, void *dst)
{
	struct device_conf *dev = dst;
	enum suite_set set;
	const uint16_t *codes;
	size_t n;

	(void)o;
	if (!suite_set_from_name(value, &set))
		return policy_parse_explicit(l, dev, value);
	n = suite_set_codes(set, &codes);
	memcpy(dev->suites, codes, n * sizeof *codes);
	dev->nsuites = n;
	dev->suite_set = set;
	if (set == SUITE_SET_LEGACY && l->written)
		diag_warn(l->d, l->file, l->line, "suites = legacy allows "
		    "static RSA key exchange: no forward secrecy on the device "
		    "leg");
	return 0;
}

/* yes|no and the usual spellings of both. */
static int
policy_parse_bool(struct policy_load *l, const struct policy_option *o,
    const char *value, void *dst)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	bool b;
	size_t i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			b = true;
			goto store;
		}
		if (strcasecmp(value, no[i]) == 0) {
			b = false;
			goto store;
		}
	}
	diag_error(l->d, l->file, l->line, "%s: \"%s\" is not yes or no",
	    o->name, value);
	return -1;
store:
	memcpy(dst, &b, sizeof b);
	return 0;
}

/* Free a list of strings. */
static void
policy_free_list(char **list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* Split value at commas and blanks into a new list; an empty list is
 * an error.  Each token is checked with ok(); every bad one is
 * reported; a token listed twice gets a warning and is kept once.
 * 0, or -1 after reporting. */
static int
policy_split_list(struct policy_load *l, const struct policy_option *o,
    const char *value, bool (*ok)(struct policy_load *,
    const struct policy_option *, char *), char ***out, size_t *nout)
{
	char *copy, *tok, *save = NULL, **list = NULL, **more;
	size_t n = 0, i;
	bool good = true;

	if ((copy = policy_strdup(l, value)) == NULL)
		return -1;
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		if (!ok(l, o, tok)) {
			good = false;
			continue;
		}
		for (i = 0; i < n && strcasecmp(list[i], tok) != 0; i++)
			;
		if (i < n) {
			diag_warn(l->d, l->file, l->line, "%s: \"%s\" is listed "
			    "twice", o->name, tok);
			continue;
		}
		if ((more = realloc(list, (n + 1) * sizeof *list)) == NULL ||
		    (more[n] = strdup(tok)) == NULL) {
			list = more ? more : list;
			diag_error(l->d, l->file, l->line, "out of memory");
			good = false;
			break;
		}
		list = more;
		n++;
	}
	free(copy);
	if (good && n == 0) {
		diag_error(l->d, l->file, l->line, "%s: empty list", o->name);
		good = false;
	}
	if (!good) {
		policy_free_list(list, n);
		return -1;
	}
	*out = list;
	*nout = n;
	return 0;
}

/* An identity in allow: a certificate's CN or subjectAltName. */
static bool
policy_identity_ok(struct policy_load *l, const struct policy_option *o,
    char *tok)
{
	size_t i, len = strlen(tok);

	for (i = 0; i < len; i++) {
		if ((unsigned char)tok[i] < 0x21 || tok[i] == 0x7F)
			break;
	}
	if (len > 255 || i < len) {
		diag_error(l->d, l->file, l->line, "%s: \"%s\" is not a "
		    "certificate name (at most 255 characters, no control "
		    "characters)", o->name, tok);
		return false;
	}
	return true;
}

/* A list of names (allow): char ** at offset, size_t at offset2. */
static int
policy_parse_list(struct policy_load *l, const struct policy_option *o,
    const char *value, void *dst)
{
	char **list, ***field = dst;
	size_t n, *count = (size_t *)((char *)l->base + o->offset2);

	if (policy_split_list(l, o, value, policy_identity_ok, &list, &n) != 0)
		return -1;
	policy_free_list(*field, *count);
	*field = list;
	*count = n;
	return 0;
}

/* A DNS name as a device sends it in SNI: labels of 1..63 letters,
 * digits, '-' or '_', not an IP literal. */
static bool
policy_dns_name_ok(const char *s)
{
	size_t label = 0;

	if (*s == '\0' || strlen(s) > 253 || !policy_host_ok(s))
		return false;
	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (++label > 63)
			return false;
	}
	return label > 0;
}

/* One sni name: lower-cased in place, one trailing dot dropped. */
static bool
policy_sni_ok(struct policy_load *l, const struct policy_option *o,
    char *tok)
{
	unsigned char buf[sizeof(struct in6_addr)];
	size_t len = strlen(tok);
	char *p;

	if (len > 1 && tok[len - 1] == '.')
		tok[--len] = '\0';
	for (p = tok; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (inet_pton(AF_INET, tok, buf) == 1 ||
	    inet_pton(AF_INET6, tok, buf) == 1) {
		diag_error(l->d, l->file, l->line, "%s: \"%s\" is an IP "
		    "address; devices never send one as SNI (such hellos go "
		    "to the policy without sni)", o->name, tok);
		return false;
	}
	if (strncmp(tok, "*.", 2) == 0 ? policy_dns_name_ok(tok + 2) :
	    policy_dns_name_ok(tok))
		return true;
	diag_error(l->d, l->file, l->line, "%s: \"%s\" is not a DNS name or "
	    "a wildcard such as *.gw.lan", o->name, tok);
	return false;
}

/* [listen] sni: the list at offset2/offset3, joined at offset. */
static int
policy_parse_sni(struct policy_load *l, const struct policy_option *o,
    const char *value, void *dst)
{
	char **list, ***field, *joined;
	size_t n, i, len = 1, *count;

	field = (char ***)((char *)l->base + o->offset2);
	count = (size_t *)((char *)l->base + o->offset3);
	if (policy_split_list(l, o, value, policy_sni_ok, &list, &n) != 0)
		return -1;
	for (i = 0; i < n; i++)
		len += strlen(list[i]) + 1;
	if ((joined = malloc(len)) == NULL) {
		diag_error(l->d, l->file, l->line, "out of memory");
		policy_free_list(list, n);
		return -1;
	}
	joined[0] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(joined, ",");
		strcat(joined, list[i]);
	}
	policy_store_str(dst, joined);
	policy_free_list(*field, *count);
	*field = list;
	*count = n;
	return 0;
}

/* passthrough | device-cn | prefix:TEXT; the enum at offset, the
 * prefix at offset2. */
static int
policy_parse_client_id(struct policy_load *l, const struct policy_option *o,
    const char *value, void *dst)
{
	enum mqtt_client_id_mode mode;
	char *prefix = NULL;
	const char *t;

	if (strcasecmp(value, "passthrough") == 0)
		mode = MQTT_CLIENT_ID_PASSTHROUGH;
	else if (strcasecmp(value, "device-cn") == 0)
		mode = MQTT_CLIENT_ID_DEVICE_CN;
	else if (strncasecmp(value, "prefix:", 7) == 0) {
		mode = MQTT_CLIENT_ID_PREFIX;
		for (t = value + 7; *t != '\0'; t++) {
			if (*t < 0x21 || *t > 0x7E)
				break;
		}
		if (value[7] == '\0' || *t != '\0' || strlen(value + 7) > 64) {
			diag_error(l->d, l->file, l->line, "%s: prefix \"%s\" "
			    "must be 1 to 64 printable ASCII characters without "
			    "blanks", o->name, value + 7);
			return -1;
		}
		if ((prefix = policy_strdup(l, value + 7)) == NULL)
			return -1;
	} else {
		diag_error(l->d, l->file, l->line, "%s: \"%s\" is not one of: "
		    "passthrough, device-cn, prefix:TEXT", o->name, value);
		return -1;
	}
	memcpy(dst, &mode, sizeof mode);
	policy_store_str((char *)l->base + o->offset2, prefix);
	return 0;
}

typedef int (*policy_parse_fn)(struct policy_load *,
    const struct policy_option *, const char *, void *);

static const policy_parse_fn policy_parsers[] = {
	[POPT_STRING] = policy_parse_string,
	[POPT_PATH] = policy_parse_path,
	[POPT_HOST] = policy_parse_host,
	[POPT_UINT] = policy_parse_uint,
	[POPT_SIZE] = policy_parse_size,
	[POPT_CHOICE] = policy_parse_choice,
	[POPT_WORKERS] = policy_parse_workers,
	[POPT_ADDRESS] = policy_parse_address,
	[POPT_VERSION] = policy_parse_version,
	[POPT_SUITES] = policy_parse_suites,
	[POPT_CA] = policy_parse_ca,
	[POPT_ALPN] = policy_parse_alpn,
	[POPT_BOOL] = policy_parse_bool,
	[POPT_LIST] = policy_parse_list,
	[POPT_SNI] = policy_parse_sni,
	[POPT_CLIENT_ID] = policy_parse_client_id,
};

/* Parse a value into its field: 0, or -1 after an error. */
static int
policy_apply(struct policy_load *l, const struct policy_option *o,
    const char *value)
{
	return policy_parsers[o->type](l, o, value, (char *)l->base + o->offset);
}

/* Defaults go through the same parsers as written values. */
static void
policy_apply_defaults(struct policy_load *l)
{
	size_t i;

	l->written = false;
	for (i = 0; i < POLICY_NOPTS; i++) {
		if (policy_options[i].file == l->kind &&
		    policy_options[i].def != NULL)
			policy_apply(l, &policy_options[i],
			    policy_options[i].def);
	}
	l->written = true;
}

static int
policy_section_find(const struct policy_load *l, const char *name)
{
	size_t i;

	for (i = 0; i < POLICY_NSECTIONS; i++) {
		if (policy_sections[i].file == l->kind &&
		    strcasecmp(policy_sections[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

static int
policy_option_find(enum policy_opt_file kind, const char *section,
    const char *name)
{
	size_t i;

	for (i = 0; i < POLICY_NOPTS; i++) {
		const struct policy_option *o = &policy_options[i];

		if (o->file == kind && strcasecmp(o->section, section) == 0 &&
		    strcasecmp(o->name, name) == 0)
			return (int)i;
	}
	return -1;
}

/* Line where an option was written (0: not written). */
static int
policy_line(const struct policy_load *l, const char *section,
    const char *name)
{
	int i = policy_option_find(l->kind, section, name);

	return i < 0 ? 0 : l->set_line[i];
}

/* Line of a section header (0: the section is absent). */
static int
policy_section_line(const struct policy_load *l, const char *section)
{
	int i = policy_section_find(l, section);

	return i < 0 ? 0 : l->section_line[i];
}

/* True when some option of the section was written with a bad value. */
static bool
policy_section_bad(const struct policy_load *l, const char *section)
{
	size_t i;

	for (i = 0; i < POLICY_NOPTS; i++) {
		if (l->bad[i] && policy_options[i].file == l->kind &&
		    strcmp(policy_options[i].section, section) == 0)
			return true;
	}
	return false;
}

static void
policy_trim(char **start, char **end)
{
	while (*start < *end && isspace((unsigned char)**start))
		(*start)++;
	while (*end > *start && isspace((unsigned char)(*end)[-1]))
		(*end)--;
}

/* Cut an inline comment: ';' or '#' after a blank, as inih does for ';'
 * on Debian (other builds may not: we do it ourselves). */
static void
policy_cut_comment(char *s)
{
	char *p;

	for (p = s; *p != '\0'; p++) {
		if ((*p == ';' || *p == '#') && p > s &&
		    isspace((unsigned char)p[-1])) {
			*p = '\0';
			return;
		}
	}
}

/* A "[section]" line: record it, report unknown ones, hand it on. */
static void
policy_lex_section(struct policy_load *l, char *s, char *out, size_t outsz)
{
	char *end = strchr(s, ']'), *name = s + 1, *rest = NULL;
	int i;

	/* After a broken header, keys belong to no section we know: they
	 * are ignored rather than reported against the previous one. */
	snprintf(out, outsz, "[?]");
	if (end != NULL) {
		rest = end + 1;
		policy_cut_comment(rest);
		while (isspace((unsigned char)*rest))
			rest++;
	}
	if (end == NULL || *rest != '\0') {
		diag_error(l->d, l->file, l->line, "syntax error: expected "
		    "[section] or key = value");
		return;
	}
	policy_trim(&name, &end);
	*end = '\0';
	if ((i = policy_section_find(l, name)) < 0)
		diag_error(l->d, l->file, l->line, "unknown section [%s]", name);
	else if (l->section_line[i] == 0)
		l->section_line[i] = l->line;
	snprintf(out, outsz, "[%s]", name);
}

/* A "key = value" line, handed on as "key=value" without comments or
 * blanks, so inih cannot cut, join or reinterpret it. */
static void
policy_lex_pair(struct policy_load *l, char *s, char *out, size_t outsz)
{
	char *sep = s + strcspn(s, "=:"), *name = s, *nend, *value, *vend;
	size_t len;

	if (*sep == '\0') {
		diag_error(l->d, l->file, l->line, "syntax error: expected "
		    "[section] or key = value");
		return;
	}
	nend = sep;
	policy_trim(&name, &nend);
	value = sep + 1;
	policy_cut_comment(value);
	vend = value + strlen(value);
	policy_trim(&value, &vend);
	if (name == nend) {
		diag_error(l->d, l->file, l->line, "syntax error: expected "
		    "[section] or key = value");
		return;
	}
	len = (size_t)(nend - name) + 1 + (size_t)(vend - value);
	if (len + 1 > outsz) {
		diag_error(l->d, l->file, l->line, "line too long (%zu "
		    "characters, at most %zu)", len, outsz - 1);
		return;
	}
	snprintf(out, outsz, "%.*s=%.*s", (int)(nend - name), name,
	    (int)(vend - value), value);
}

/*
 * inih's line reader.  Reads one physical line, so inih's count and ours
 * agree, and hands inih an empty line for anything it should not see
 * (blank lines, comments, lines we already reported).
 */
static char *
policy_reader(char *str, int num, void *stream)
{
	struct policy_load *l = stream;
	ssize_t n;
	char *s;

	if (num <= 1 || (n = getline(&l->buf, &l->bufsz, l->fp)) < 0)
		return NULL;
	l->line++;
	s = l->buf;
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	if (l->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0) {
		s += 3;
		n -= 3;
	}
	str[0] = '\0';
	if (n > POLICY_MAX_LINE) {
		diag_error(l->d, l->file, l->line, "line too long (%zd "
		    "characters, at most %d)", n, POLICY_MAX_LINE);
		return str;
	}
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0' || *s == ';' || *s == '#')
		return str;
	if (*s == '[')
		policy_lex_section(l, s, str, (size_t)num);
	else
		policy_lex_pair(l, s, str, (size_t)num);
	return str;
}

/* One key = value pair from inih. */
static void
policy_pair(struct policy_load *l, const char *section, const char *name,
    const char *value)
{
	const struct policy_option *o;
	int i;

	if (*section == '\0') {
		diag_error(l->d, l->file, l->line, "key \"%s\" is outside of "
		    "any section", name);
		return;
	}
	if (policy_section_find(l, section) < 0)
		return;         /* the section was reported by the reader */
	if ((i = policy_option_find(l->kind, section, name)) < 0) {
		diag_error(l->d, l->file, l->line, "unknown key \"%s\" in [%s]",
		    name, section);
		return;
	}
	o = &policy_options[i];
	if (l->set_line[i] != 0) {
		diag_error(l->d, l->file, l->line, "duplicate key \"%s\" in "
		    "[%s] (first set on line %d)", name, o->section,
		    l->set_line[i]);
		return;
	}
	l->set_line[i] = l->line;
	if (*value == '\0') {
		if (o->flags & POPT_REQUIRED) {
			diag_error(l->d, l->file, l->line, "%s: empty value",
			    o->name);
			l->bad[i] = true;
		}
		return;         /* empty: keep the default */
	}
	if (policy_apply(l, o, value) != 0)
		l->bad[i] = true;
}

/* inih's handler; always "success": we report errors ourselves. */
#if INI_HANDLER_LINENO
static int
policy_handler(void *user, const char *section, const char *name,
    const char *value, int lineno)
{
	(void)lineno;
#else
static int
policy_handler(void *user, const char *section, const char *name,
    const char *value)
{
#endif
	if (name != NULL)       /* NULL: a new-section call on some builds */
		policy_pair(user, section, name, value ? value : "");
	return 1;
}

/* Read one file through inih; false when it cannot be opened. */
static bool
policy_read_file(struct policy_load *l)
{
	int rc;

	if ((l->fp = fopen(l->file, "r")) == NULL) {
		diag_error(l->d, l->file, 0, "cannot open: %s", strerror(errno));
		return false;
	}
	rc = ini_parse_stream(policy_reader, l, policy_handler, l);
	if (rc == -2)
		diag_error(l->d, l->file, 0, "out of memory");
	else if (rc > 0 && l->d->nerrors == 0)
		diag_error(l->d, l->file, rc, "syntax error");
	fclose(l->fp);
	l->fp = NULL;
	free(l->buf);
	l->buf = NULL;
	l->bufsz = 0;
	return true;
}

/* Report required options that were never written. */
static void
policy_check_required(struct policy_load *l)
{
	size_t i;

	for (i = 0; i < POLICY_NOPTS; i++) {
		const struct policy_option *o = &policy_options[i];

		if (o->file != l->kind || !(o->flags & POPT_REQUIRED) ||
		    l->set_line[i] != 0)
			continue;
		diag_error(l->d, l->file, policy_section_line(l, o->section),
		    "missing required key \"%s\" in [%s]", o->name,
		    o->section);
	}
}

/* A certificate and its key come together: true when both are set. */
static bool
policy_check_pair(struct policy_load *l, const char *section,
    const char *cert_name, const char *key_name, const char *cert,
    const char *key)
{
	if (key != NULL && cert == NULL)
		diag_error(l->d, l->file, policy_line(l, section, key_name),
		    "%s is set but %s is not", key_name, cert_name);
	if (cert != NULL && key == NULL)
		diag_error(l->d, l->file, policy_line(l, section, cert_name),
		    "%s is set but %s is not", cert_name, key_name);
	return cert != NULL && key != NULL;
}

/* Suites this wolfSSL build cannot offer, named in one error. */
static bool
policy_check_supported(struct policy_load *l, const struct device_conf *dev)
{
	char names[1024] = "";
	bool rsa = false;
	size_t i, n = 0;

	for (i = 0; i < dev->nsuites; i++) {
		const struct suite_info *s = suite_find(dev->suites[i]);

		if (tlsctx_suite_supported(dev->suites[i]))
			continue;
		rsa |= s != NULL && s->kx == KX_RSA;
		if (n++ > 0)
			strncat(names, ", ", sizeof names - strlen(names) - 1);
		strncat(names, s ? s->iana : "?",
		    sizeof names - strlen(names) - 1);
	}
	if (n == 0)
		return true;
	diag_error(l->d, l->file, policy_line(l, "device", "suites"),
	    "suites: this wolfSSL build does not offer %s%s", names,
	    rsa ? " (static RSA needs wolfSSL built with WOLFSSL_STATIC_RSA)" :
	    "");
	return false;
}

/* min_version = 1.3 needs a TLS 1.3 suite in the list. */
static bool
policy_check_tls13(struct policy_load *l, const struct device_conf *dev)
{
	size_t i;

	if (dev->min_version != TLSV_TLS13)
		return true;
	for (i = 0; i < dev->nsuites; i++) {
		const struct suite_info *s = suite_find(dev->suites[i]);

		if (s != NULL && s->kx == KX_TLS13)
			return true;
	}
	diag_error(l->d, l->file, policy_line(l, "device", "suites"),
	    "suites: no TLS 1.3 suite, but min_version is 1.3");
	return false;
}

/* The [device] section: certificates, suites, contexts. */
static void
policy_finish_device(struct policy_load *l, struct policy *p)
{
	struct device_conf *dev = &p->device;
	struct tlsctx_where w;
	bool rsa, ecdsa;

	if (dev->allow != NULL && dev->client_ca == NULL)
		diag_error(l->d, l->file, policy_line(l, "device", "allow"),
		    "allow is set but client_ca is not: devices without a "
		    "certificate have no identity to check");
	rsa = policy_check_pair(l, "device", "cert", "key", dev->cert,
	    dev->key);
	ecdsa = policy_check_pair(l, "device", "cert_ecdsa", "key_ecdsa",
	    dev->cert_ecdsa, dev->key_ecdsa);
	if (!rsa && !ecdsa && dev->cert == NULL && dev->key == NULL &&
	    dev->cert_ecdsa == NULL && dev->key_ecdsa == NULL)
		diag_error(l->d, l->file, policy_section_line(l, "device"),
		    "[device] needs cert and key (RSA) and/or cert_ecdsa and "
		    "key_ecdsa (ECDSA)");
	if (policy_section_bad(l, "device") || (!rsa && !ecdsa))
		return;
	if (!policy_check_supported(l, dev) || !policy_check_tls13(l, dev))
		return;
	memset(&w, 0, sizeof w);
	w.file = p->file;
	w.suites_line = policy_line(l, "device", "suites");
	w.version_line = policy_line(l, "device", "min_version");
	w.ca_line = policy_line(l, "device", "client_ca");
	w.crl_line = policy_line(l, "device", "client_crl");
	if (rsa) {
		w.cert_opt = "cert";
		w.key_opt = "key";
		w.cert_line = policy_line(l, "device", "cert");
		w.key_line = policy_line(l, "device", "key");
		dev->ctx_rsa = tlsctx_device_new(dev, false, &w, l->d);
	}
	if (ecdsa) {
		w.cert_opt = "cert_ecdsa";
		w.key_opt = "key_ecdsa";
		w.cert_line = policy_line(l, "device", "cert_ecdsa");
		w.key_line = policy_line(l, "device", "key_ecdsa");
		dev->ctx_ecdsa = tlsctx_device_new(dev, true, &w, l->d);
	}
}

/* The [upstream] section: defaults that depend on other keys, the
 * client certificate, the context. */
static void
policy_finish_upstream(struct policy_load *l, struct policy *p)
{
	struct upstream_conf *up = &p->upstream;
	struct tlsctx_where w;
	bool pair;

	if (up->sni == NULL && up->host != NULL)
		up->sni = policy_strdup(l, up->host);
	pair = policy_check_pair(l, "upstream", "cert", "key", up->cert,
	    up->key);
	if (policy_section_bad(l, "upstream") || up->host == NULL ||
	    up->sni == NULL || (!pair && (up->cert || up->key)))
		return;
	memset(&w, 0, sizeof w);
	w.file = p->file;
	w.cert_opt = "cert";
	w.key_opt = "key";
	w.cert_line = policy_line(l, "upstream", "cert");
	w.key_line = policy_line(l, "upstream", "key");
	w.version_line = policy_line(l, "upstream", "min_version");
	w.ca_line = policy_line(l, "upstream", "ca");
	up->ctx = tlsctx_upstream_new(up, &w, l->d);
}

void
policy_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n-- > 0)
		*v++ = 0;
}

/* True for well-formed UTF-8 (shortest forms, no surrogates) without
 * control characters: what a user name in an MQTT CONNECT may hold. */
static bool
policy_utf8_text(const char *s)
{
	static const unsigned long min[] = { 0, 0x80, 0x800, 0x10000 };
	const unsigned char *u = (const unsigned char *)s;
	unsigned long cp;
	int more, n;

	while (*u != '\0') {
		if (*u < 0x20 || *u == 0x7F)
			return false;
		if (*u < 0x80) {
			u++;
			continue;
		}
		if ((*u & 0xE0) == 0xC0)
			cp = *u & 0x1F, more = 1;
		else if ((*u & 0xF0) == 0xE0)
			cp = *u & 0x0F, more = 2;
		else if ((*u & 0xF8) == 0xF0)
			cp = *u & 0x07, more = 3;
		else
			return false;
		n = more;
		for (u++; more > 0; more--, u++) {
			if ((*u & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (*u & 0x3F);
		}
		if (cp < min[n] || (cp >= 0xD800 && cp <= 0xDFFF) ||
		    cp > 0x10FFFF)
			return false;
	}
	return true;
}

/* Read password_file into m->password: the first line, without its
 * line end.  Only a stack buffer is used (no stdio buffer left behind
 * in freed memory), and it is wiped.  The password never appears in a
 * message. */
static void
policy_read_password(struct policy_load *l, struct mqtt_conf *m, int line)
{
	char buf[POLICY_MAX_PASSWORD_FILE + 1];
	const char *path = m->password_file;
	size_t len = 0, n;
	struct stat st;
	ssize_t r;
	int fd;

	/* O_NONBLOCK: a FIFO must not hang the load; regular files ignore
	 * it. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) < 0) {
		diag_error(l->d, l->file, line, "password_file: cannot open "
		    "%s: %s", path, strerror(errno));
		return;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		diag_error(l->d, l->file, line, "password_file: %s is not a "
		    "regular file", path);
		goto out;
	}
	if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0)
		diag_warn(l->d, l->file, line, "password_file: %s is readable "
		    "by group or others (mode %04o)", path,
		    (unsigned)(st.st_mode & 07777));
	while (len < sizeof buf) {
		r = read(fd, buf + len, sizeof buf - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			diag_error(l->d, l->file, line, "password_file: cannot "
			    "read %s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > POLICY_MAX_PASSWORD_FILE) {
		diag_error(l->d, l->file, line, "password_file: %s is larger "
		    "than %d bytes", path, POLICY_MAX_PASSWORD_FILE);
		goto out;
	}
	for (n = 0; n < len && buf[n] != '\n'; n++)
		;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == 0) {
		diag_error(l->d, l->file, line, "password_file: %s %s", path,
		    len == 0 ? "is empty" : "has an empty first line");
		goto out;
	}
	if ((m->password = malloc(n + 1)) == NULL) {
		diag_error(l->d, l->file, line, "out of memory");
		goto out;
	}
	memcpy(m->password, buf, n);
	m->password[n] = '\0';
	m->password_len = n;
out:
	policy_wipe(buf, sizeof buf);
	close(fd);
}

/* Free the password, wiping it first. */
static void
policy_free_password(struct mqtt_conf *m)
{
	if (m->password != NULL) {
		policy_wipe(m->password, m->password_len);
		free(m->password);
	}
	m->password = NULL;
	m->password_len = 0;
}

/* The [mqtt] section: keys that need others, the password. */
static void
policy_finish_mqtt(struct policy_load *l, struct policy *p)
{
	struct mqtt_conf *m = &p->mqtt;
	int user_line = policy_line(l, "mqtt", "username");
	int pass_line = policy_line(l, "mqtt", "password_file");
	size_t i;

	for (i = 0; i < POLICY_NOPTS && !m->inspect; i++) {
		const struct policy_option *o = &policy_options[i];

		if (o->file == POPT_POLICY && strcmp(o->section, "mqtt") == 0 &&
		    strcmp(o->name, "inspect") != 0 && l->set_line[i] != 0)
			diag_warn(l->d, l->file, l->set_line[i], "%s has no "
			    "effect without inspect = yes", o->name);
	}
	if (m->client_id_mode == MQTT_CLIENT_ID_DEVICE_CN &&
	    p->device.client_ca == NULL)
		diag_error(l->d, l->file, policy_line(l, "mqtt", "client_id"),
		    "client_id = device-cn needs client_ca in [device]: "
		    "devices without a certificate have no CN");
	if (m->username != NULL && !policy_utf8_text(m->username))
		diag_error(l->d, l->file, user_line, "username: not UTF-8 "
		    "text");
	if (!policy_check_pair(l, "mqtt", "username", "password_file",
	    m->username, m->password_file) || policy_section_bad(l, "mqtt"))
		return;
	policy_read_password(l, m, pass_line);
	if (!m->inspect)
		policy_free_password(m);        /* checked, but never used */
}

static void
policy_load_init(struct policy_load *l, struct diag *d, const char *file,
    const char *basedir, enum policy_opt_file kind, void *base)
{
	memset(l, 0, sizeof *l);
	l->d = d;
	l->file = file;
	l->basedir = basedir;
	l->kind = kind;
	l->base = base;
}

static void
policy_free_one(struct policy *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->file);
	free(p->listen_address);
	free(p->listen_sni);
	policy_free_list(p->listen_snis, p->nlisten_snis);
	free(p->device.cert);
	free(p->device.key);
	free(p->device.cert_ecdsa);
	free(p->device.key_ecdsa);
	free(p->device.client_ca);
	free(p->device.client_crl);
	policy_free_list(p->device.allow, p->device.nallow);
	if (p->device.ctx_rsa != NULL)
		wolfSSL_CTX_free(p->device.ctx_rsa);
	if (p->device.ctx_ecdsa != NULL)
		wolfSSL_CTX_free(p->device.ctx_ecdsa);
	free(p->upstream.host);
	free(p->upstream.sni);
	free(p->upstream.ca);
	free(p->upstream.alpn);
	free(p->upstream.cert);
	free(p->upstream.key);
	if (p->upstream.ctx != NULL)
		wolfSSL_CTX_free(p->upstream.ctx);
	free(p->mqtt.client_id_prefix);
	free(p->mqtt.username);
	free(p->mqtt.password_file);
	policy_free_password(&p->mqtt);
	free(p);
}

/* Where a policy's listen settings were written, for conflict messages. */
struct policy_lines {
	int address, sni;
};

/* Load one policy file; NULL only when out of memory. */
static struct policy *
policy_load_one(const char *path, const char *name, const char *basedir,
    struct diag *d, struct policy_lines *lines)
{
	struct policy_load l;
	struct policy *p;

	if ((p = calloc(1, sizeof *p)) == NULL ||
	    (p->file = strdup(path)) == NULL ||
	    (p->name = strndup(name, strlen(name) - 4)) == NULL) {
		diag_error(d, path, 0, "out of memory");
		policy_free_one(p);
		return NULL;
	}
	policy_load_init(&l, d, p->file, basedir, POPT_POLICY, p);
	policy_apply_defaults(&l);
	if (policy_read_file(&l)) {
		policy_check_required(&l);
		policy_finish_device(&l, p);
		policy_finish_upstream(&l, p);
		policy_finish_mqtt(&l, p);
	}
	lines->address = policy_line(&l, "listen", "address");
	lines->sni = policy_line(&l, "listen", "sni");
	return p;
}

/* Same listening socket: family, address, port (and IPv6 scope). */
static bool
policy_same_addr(const struct sockaddr *a, socklen_t alen,
    const struct sockaddr *b, socklen_t blen)
{
	if (alen == 0 || blen == 0 || a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a;
		const struct sockaddr_in *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		    x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a;
		const struct sockaddr_in6 *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		    x->sin6_scope_id == y->sin6_scope_id &&
		    memcmp(&x->sin6_addr, &y->sin6_addr,
		    sizeof x->sin6_addr) == 0;
	}
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* True when a is the wildcard address of its family. */
static bool
policy_addr_any(const struct sockaddr *a)
{
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)a)->
		    sin_addr.s_addr == htonl(INADDR_ANY);
	if (a->sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(
		    &((const struct sockaddr_in6 *)(const void *)a)->sin6_addr);
	return false;
}

static uint16_t
policy_addr_port(const struct sockaddr *a)
{
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)a)->sin_port;
	if (a->sa_family == AF_INET6)
		return ((const struct sockaddr_in6 *)(const void *)a)->sin6_port;
	return 0;
}

/*
 * Two different addresses the kernel will not bind together (EADDRINUSE
 * even with SO_REUSEADDR): on one port, the wildcard of a family and
 * another address of it (0.0.0.0:P and 127.0.0.1:P), and [::]:P with any
 * IPv4 address on P, since an IPv6 wildcard socket also takes IPv4
 * unless IPV6_V6ONLY is set (Linux default: net.ipv6.bindv6only = 0).
 */
static bool
policy_bind_overlap(const struct sockaddr *a, const struct sockaddr *b)
{
	if (policy_addr_port(a) == 0 || policy_addr_port(a) !=
	    policy_addr_port(b))
		return false;
	if (a->sa_family == b->sa_family)
		return policy_addr_any(a) || policy_addr_any(b);
	return (a->sa_family == AF_INET6 && policy_addr_any(a)) ||
	    (b->sa_family == AF_INET6 && policy_addr_any(b));
}

/* True when a policy lists an sni name (names are lower case). */
static bool
policy_has_sni(const struct policy *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nlisten_snis; i++) {
		if (strcmp(p->listen_snis[i], name) == 0)
			return true;
	}
	return false;
}

/* Policies sharing an address need distinct sni names (exact names and
 * wildcards alike), and at most one of them may go without: otherwise a
 * hello could match two.  Addresses the kernel would not bind together
 * are reported here rather than at bind time. */
static void
policy_check_conflicts(struct gateway_conf *conf,
    const struct policy_lines *lines, struct diag *d)
{
	size_t n = conf->npolicies - 1, i, j;
	const struct policy *p = conf->policies[n], *q;
	const struct sockaddr *pa = (const void *)&p->listen_addr, *qa;

	if (p->listen_addrlen == 0)
		return;
	for (i = 0; i < n; i++) {
		q = conf->policies[i];
		qa = (const void *)&q->listen_addr;
		if (q->listen_addrlen == 0)
			continue;
		if (!policy_same_addr(pa, p->listen_addrlen, qa,
		    q->listen_addrlen)) {
			if (policy_bind_overlap(pa, qa))
				diag_error(d, p->file, lines[n].address, "address "
				    "%s overlaps %s of policy \"%s\" (%s:%d): the "
				    "kernel refuses to bind both%s; write the same "
				    "address in both policies (sni tells them "
				    "apart)", p->listen_address,
				    q->listen_address, q->name, q->file,
				    lines[i].address, pa->sa_family !=
				    qa->sa_family ? " ([::] takes IPv4 too)" : "");
			continue;
		}
		if (p->nlisten_snis == 0 && q->nlisten_snis == 0)
			diag_error(d, p->file, lines[n].address, "address %s is "
			    "already used by policy \"%s\" (%s:%d), also "
			    "without sni; set sni in one of them",
			    p->listen_address, q->name, q->file,
			    lines[i].address);
		for (j = 0; j < p->nlisten_snis; j++) {
			if (policy_has_sni(q, p->listen_snis[j]))
				diag_error(d, p->file, lines[n].sni, "sni \"%s\" "
				    "on %s is already used by policy \"%s\" "
				    "(%s:%d)", p->listen_snis[j],
				    p->listen_address, q->name, q->file,
				    lines[i].sni);
		}
	}
}

static int
policy_cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.ini names in a directory, sorted, into *names; false after an
 * error. */
static bool
policy_list_dir(const char *dir, char ***out, size_t *n, const char *gfile,
    int gline, struct diag *d)
{
	struct dirent *de;
	char **names = NULL, **more;
	size_t len;
	DIR *dp;

	*n = 0;
	*out = NULL;
	if ((dp = opendir(dir)) == NULL) {
		diag_error(d, gfile, gline, "policy_dir: cannot open directory "
		    "%s: %s", dir, strerror(errno));
		return false;
	}
	for (;;) {
		/* readdir returns NULL at the end and on an error alike. */
		errno = 0;
		if ((de = readdir(dp)) == NULL) {
			if (errno != 0)
				diag_error(d, gfile, gline, "policy_dir: cannot read "
				    "directory %s: %s", dir, strerror(errno));
			break;
		}
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len <= 4 ||
		    strcmp(de->d_name + len - 4, ".ini") != 0)
			continue;
		if ((more = realloc(names, (*n + 1) * sizeof *names)) == NULL ||
		    (more[*n] = strdup(de->d_name)) == NULL) {
			names = more ? more : names;
			diag_error(d, gfile, gline, "out of memory");
			break;
		}
		names = more;
		(*n)++;
	}
	closedir(dp);
	if (*n > 0)
		qsort(names, *n, sizeof *names, policy_cmp_names);
	*out = names;
	return true;
}

/* Append one loaded policy to conf. */
static bool
policy_append(struct gateway_conf *conf, struct policy *p)
{
	struct policy **more;

	more = realloc(conf->policies, (conf->npolicies + 1) * sizeof *more);
	if (more == NULL)
		return false;
	conf->policies = more;
	conf->policies[conf->npolicies++] = p;
	return true;
}

/* Every policy file in conf->policy_dir, in name order. */
static void
policy_load_dir(struct gateway_conf *conf, const char *basedir, int dir_line,
    struct diag *d)
{
	struct policy_lines *lines;
	struct policy *p;
	struct stat st;
	char **names, *path;
	size_t n, i;

	if (!policy_list_dir(conf->policy_dir, &names, &n, conf->file,
	    dir_line, d))
		return;
	if ((lines = calloc(n ? n : 1, sizeof *lines)) == NULL)
		diag_error(d, conf->file, dir_line, "out of memory");
	for (i = 0; i < n && lines != NULL; i++) {
		if ((path = policy_join(conf->policy_dir, names[i])) == NULL)
			break;
		if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
			diag_warn(d, path, 0, "not a regular file; ignored");
			free(path);
			continue;
		}
		p = policy_load_one(path, names[i], basedir, d,
		    &lines[conf->npolicies]);
		free(path);
		if (p != NULL && !policy_append(conf, p)) {
			policy_free_one(p);
			p = NULL;
		}
		if (p != NULL)
			policy_check_conflicts(conf, lines, d);
	}
	if (conf->npolicies == 0 && d->nerrors == 0)
		diag_error(d, conf->file, dir_line, "no policy files (*.ini) in "
		    "%s", conf->policy_dir);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(lines);
}

struct gateway_conf *
policy_load(const char *path, struct diag *d)
{
	struct gateway_conf *conf;
	struct policy_load l;
	char *basedir = NULL;

	if ((conf = calloc(1, sizeof *conf)) == NULL ||
	    (conf->file = strdup(path)) == NULL ||
	    (basedir = policy_basedir(path)) == NULL) {
		diag_error(d, path, 0, "out of memory");
		goto fail;
	}
	policy_load_init(&l, d, conf->file, basedir, POPT_GLOBAL, conf);
	policy_apply_defaults(&l);
	if (!policy_read_file(&l))
		goto fail;
	policy_check_required(&l);
	if (conf->policy_dir != NULL && !l.bad[policy_option_find(POPT_GLOBAL,
	    "gateway", "policy_dir")])
		policy_load_dir(conf, basedir, policy_line(&l, "gateway",
		    "policy_dir"), d);
	if (d->nerrors > 0)
		goto fail;
	free(basedir);
	return conf;
fail:
	free(basedir);
	policy_free(conf);
	return NULL;
}

void
policy_free(struct gateway_conf *conf)
{
	size_t i;

	if (conf == NULL)
		return;
	for (i = 0; i < conf->npolicies; i++)
		policy_free_one(conf->policies[i]);
	free(conf->policies);
	free(conf->file);
	free(conf->policy_dir);
	free(conf->user);
	free(conf);
}

bool
policy_sni_match(const char *pattern, const char *name)
{
	size_t plen = strlen(pattern), nlen = strlen(name);
	const char *dot;

	if (nlen > 1 && name[nlen - 1] == '.')
		nlen--;
	if (strncmp(pattern, "*.", 2) != 0)
		return plen == nlen && strncasecmp(pattern, name, nlen) == 0;
	/* "*.gw.lan": one non-empty label, then ".gw.lan" */
	if ((dot = memchr(name, '.', nlen)) == NULL || dot == name)
		return false;
	return (size_t)(name + nlen - dot) == plen - 1 &&
	    strncasecmp(dot, pattern + 1, plen - 1) == 0;
}

/* True for an SNI that is an IP literal (RFC 6066 forbids them; some
 * devices send one anyway). */
static bool
policy_sni_is_ip(const char *sni)
{
	unsigned char buf[sizeof(struct in6_addr)];
	char copy[INET6_ADDRSTRLEN + 1];
	size_t len = strlen(sni);

	if (len >= sizeof copy)
		return false;
	memcpy(copy, sni, len + 1);
	if (len > 1 && copy[len - 1] == '.')
		copy[len - 1] = '\0';
	return inet_pton(AF_INET, copy, buf) == 1 ||
	    inet_pton(AF_INET6, copy, buf) == 1;
}

const struct policy *
policy_route(const struct gateway_conf *conf, const struct sockaddr *addr,
    socklen_t addrlen, const char *sni)
{
	const struct policy *fallback = NULL, *wild = NULL, *p;
	size_t i, j, wildlen = 0;

	if (conf == NULL || addr == NULL)
		return NULL;
	if (sni != NULL && (*sni == '\0' || policy_sni_is_ip(sni)))
		sni = NULL;
	for (i = 0; i < conf->npolicies; i++) {
		p = conf->policies[i];
		if (!policy_same_addr((const void *)&p->listen_addr,
		    p->listen_addrlen, addr, addrlen))
			continue;
		if (p->nlisten_snis == 0) {
			if (fallback == NULL)
				fallback = p;
			continue;
		}
		for (j = 0; sni != NULL && j < p->nlisten_snis; j++) {
			const char *pat = p->listen_snis[j];

			if (!policy_sni_match(pat, sni))
				continue;
			if (pat[0] != '*')
				return p;
			if (strlen(pat) > wildlen) {
				wild = p;
				wildlen = strlen(pat);
			}
		}
	}
	return wild != NULL ? wild : fallback;
}
