/*
 * fuzz_config.c: libFuzzer target for the configuration loader
 * (policy/policy.c, diag.c, suites.c, tlsctx.c) on untrusted text:
 * a global file and the policy files next to it, as `tlsgw -t` reads
 * them.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=undefined -DHAVE_CONFIG_H -I. \
 *       -Igateway -Ipolicy tests/fuzz/fuzz_config.c policy/[a-z]*.c \
 *       -Wl,--wrap=wolfSSL_CTX_load_system_CA_certs \
 *       $(pkg-config --cflags --libs wolfssl inih) -o fuzz_config
 *   ./fuzz_config -max_len=4096 tests/fuzz/corpus/config
 *
 * The input is split at the first NUL or "\n===\n": the part before is
 * the global file (DIR/tlsgw.ini), the rest the policy file
 * (DIR/upstreams.d/fuzz.ini).  Further "\n===\n" in the rest start
 * more policy files (fuzz1.ini, ... up to FUZZ_MAX_POLICIES), so that
 * policies sharing an address meet.  Without a separator the policy
 * file is empty.  DIR is a temporary directory made once per process
 * (under $TMPDIR, else /dev/shm, else /tmp: a run rewrites the files,
 * and memory is faster than a disk), two levels below the one removed
 * at exit, so that "policy_dir = .." and "../.." stay inside it.  The
 * loader only reads: a path in the input may name any file, but
 * nothing is written outside DIR.
 *
 * Certificates: none by default, so every certificate load fails at
 * fopen and a run takes well under a millisecond.  With
 * TLSGW_FUZZ_PKI=DIR (a directory made by tests/data/mkcerts.sh),
 * DIR/pki links to it and pki/rsa.crt, pki/ec.key, pki/ca.crt, ...
 * load for real, as in tests/data/policy/good: slower, but the whole
 * success path, contexts and policy_free included, is fuzzed too.
 *
 * The system trust store is not input, and loading it (ca = system,
 * the default, gets there whenever [upstream] is valid) takes about
 * 100 ms: wolfSSL_CTX_load_system_CA_certs is replaced below by one
 * that loads nothing, or pki/ca.crt with TLSGW_FUZZ_PKI.  Link with
 * -Wl,--wrap=wolfSSL_CTX_load_system_CA_certs for a static libwolfssl.
 * tlsctx.c calls it when configure found it (HAVE_CONFIG_H and
 * HAVE_WOLFSSL_CTX_LOAD_SYSTEM_CA_CERTS), else it reads
 * /etc/ssl/certs/ca-certificates.crt itself, slowly.
 *
 * TLSGW_FUZZ_VERBOSE=1 prints every message and the outcome, to read
 * what a reproducer does: TLSGW_FUZZ_VERBOSE=1 ./fuzz_config FILE.
 *
 * Checks: no crash, no leak (LeakSanitizer after every run), and
 *  - the load fails exactly when an error was reported;
 *  - every message is counted once and reads "FILE: ..." or
 *    "FILE:LINE: ..." with LINE within the file;
 *  - a loaded configuration has policies in name order, each with an
 *    address, an upstream host and context, and a device context, and
 *    policy_route gives each policy for its own address and names.
 */
#define _GNU_SOURCE             /* memmem */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "policy.h"

#include "fuzz_check.h"

#define FUZZ_MAX_POLICIES 6
#define FUZZ_SEP "\n===\n"
#define FUZZ_SEPLEN 5

static char fuzz_top[PATH_MAX];         /* removed at exit */
static char fuzz_dir[PATH_MAX];         /* fuzz_top/a/b: the global file's */
static char fuzz_global[PATH_MAX];      /* fuzz_dir/tlsgw.ini */
static char fuzz_pdir[PATH_MAX];        /* fuzz_dir/upstreams.d */
static char fuzz_pki[PATH_MAX];         /* fuzz_dir/pki, a link, or "" */
static bool fuzz_verbose;               /* TLSGW_FUZZ_VERBOSE: print */
static char fuzz_policy[FUZZ_MAX_POLICIES][PATH_MAX];
/* Lines of each file this run, as our reader counts them (getline):
 * [0] the global file, [1 + i] fuzz_policy[i], -1 when absent. */
static int fuzz_lines[1 + FUZZ_MAX_POLICIES];

/* snprintf that must fit. */
static void
fuzz_path(char *out, const char *fmt, const char *a, int n)
{
	int len = snprintf(out, PATH_MAX, fmt, a, n);

	CHECK(len > 0 && len < PATH_MAX);
}

/*
 * Write len bytes to path, replacing what was there.  Not with O_TRUNC:
 * ext4 flushes a file truncated to zero when it is closed (auto_da_alloc),
 * which made every run wait for the disk.
 */
static void
fuzz_write(const char *path, const uint8_t *p, size_t len)
{
	off_t off = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	while ((size_t)off < len) {
		n = pwrite(fd, p + off, len - (size_t)off, off);
		if (n < 0 && errno == EINTR)
			continue;
		CHECK(n > 0);
		off += n;
	}
	CHECK(ftruncate(fd, (off_t)len) == 0);
	CHECK(close(fd) == 0);
}

/* Remove the temporary tree (only what this file made). */
static void
fuzz_cleanup(void)
{
	char path[PATH_MAX];
	int i;

	if (fuzz_top[0] == '\0')
		return;
	for (i = 0; i < FUZZ_MAX_POLICIES; i++)
		unlink(fuzz_policy[i]);
	unlink(fuzz_global);
	if (fuzz_pki[0] != '\0')
		unlink(fuzz_pki);
	rmdir(fuzz_pdir);
	rmdir(fuzz_dir);
	fuzz_path(path, "%s/a", fuzz_top, 0);
	rmdir(path);
	rmdir(fuzz_top);
	fuzz_top[0] = '\0';
}

/* Where the next separator starts in p[0..len), or NULL.  nul: a NUL
 * byte separates too. */
static const uint8_t *
fuzz_find_sep(const uint8_t *p, size_t len, bool nul, size_t *seplen)
{
	const uint8_t *z = nul ? memchr(p, '\0', len) : NULL;
	const uint8_t *s = memmem(p, len, FUZZ_SEP, FUZZ_SEPLEN);

	if (z != NULL && (s == NULL || z < s)) {
		*seplen = 1;
		return z;
	}
	*seplen = FUZZ_SEPLEN;
	return s;
}

/* Lines in p[0..len) as getline splits them. */
static int
fuzz_count_lines(const uint8_t *p, size_t len)
{
	size_t i;
	int lines = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == '\n')
			lines++;
	}
	return lines + (len > 0 && p[len - 1] != '\n');
}

/* Write file i (0: global, 1 + n: policy n) and count its lines. */
static void
fuzz_write_part(int i, const uint8_t *p, size_t len)
{
	fuzz_write(i == 0 ? fuzz_global : fuzz_policy[i - 1], p, len);
	fuzz_lines[i] = fuzz_count_lines(p, len);
}

/* The global file and the policy files from one input. */
static void
fuzz_write_files(const uint8_t *data, size_t size)
{
	const uint8_t *sep, *end = data + size, *p;
	size_t seplen;
	int i;

	sep = fuzz_find_sep(data, size, true, &seplen);
	fuzz_write_part(0, data, sep ? (size_t)(sep - data) : size);
	p = sep ? sep + seplen : end;
	for (i = 0; i < FUZZ_MAX_POLICIES; i++) {
		if (i > 0 && p == NULL) {
			/* Fewer policies than last time. */
			unlink(fuzz_policy[i]);
			fuzz_lines[1 + i] = -1;
			continue;
		}
		if (p == NULL)
			p = end;
		sep = i + 1 < FUZZ_MAX_POLICIES ?
		    fuzz_find_sep(p, (size_t)(end - p), false, &seplen) : NULL;
		fuzz_write_part(1 + i, p, sep ? (size_t)(sep - p) :
		    (size_t)(end - p));
		p = sep ? sep + seplen : NULL;
	}
}

/*
 * Every message starts with one of our files (or, for a certificate
 * or policy_dir elsewhere, some other file) and a location.  For our
 * own files, the line number must exist.
 */
static void
fuzz_check_diag(const struct diag *d)
{
	const char *files[1 + FUZZ_MAX_POLICIES];
	size_t i, j, flen = 0;
	const char *s, *q;
	char *end;
	long line;

	CHECK(d->nlines == d->nerrors + d->nwarnings);
	CHECK(d->nlines == 0 || d->lines != NULL);
	files[0] = fuzz_global;
	for (j = 0; j < FUZZ_MAX_POLICIES; j++)
		files[1 + j] = fuzz_policy[j];
	for (i = 0; i < d->nlines; i++) {
		s = d->lines[i];
		CHECK(s != NULL && *s != '\0');
		for (j = 0; j < 1 + FUZZ_MAX_POLICIES; j++) {
			flen = strlen(files[j]);
			if (strncmp(s, files[j], flen) == 0 &&
			    s[flen] == ':')
				break;
		}
		if (j == 1 + FUZZ_MAX_POLICIES)
			continue;       /* another file, e.g. policy_dir = . */
		q = s + flen + 1;
		if (*q == ' ')
			continue;       /* "FILE: message" */
		line = strtol(q, &end, 10);
		CHECK(end != q && *end == ':' && end[1] == ' ');
		CHECK(line >= 1 && line <= fuzz_lines[j]);
	}
}

/* True when policy r (NULL: none) lists name exactly. */
static bool
fuzz_listed(const struct policy *r, const char *name)
{
	size_t j;

	for (j = 0; r != NULL && j < r->nlisten_snis; j++) {
		if (strcasecmp(r->listen_snis[j], name) == 0)
			return true;
	}
	return false;
}

/*
 * A policy is what policy_route gives for its own address and names:
 * without sni, for a hello without SNI; for each exact name, for that
 * name; for a wildcard "*.x", for "probe.x" (unless another policy
 * lists that very name).
 */
static void
fuzz_check_route(const struct gateway_conf *conf, const struct policy *p)
{
	const struct sockaddr *sa = (const void *)&p->listen_addr;
	const struct policy *r;
	char probe[300];
	size_t j;

	if (p->nlisten_snis == 0) {
		r = policy_route(conf, sa, p->listen_addrlen, NULL);
		CHECK(r == p);
		return;
	}
	CHECK(p->listen_sni != NULL);
	for (j = 0; j < p->nlisten_snis; j++) {
		const char *name = p->listen_snis[j];

		CHECK(name != NULL && *name != '\0');
		if (strncmp(name, "*.", 2) != 0) {
			r = policy_route(conf, sa, p->listen_addrlen, name);
			CHECK(r == p);
			continue;
		}
		snprintf(probe, sizeof probe, "fuzz-probe%s", name + 1);
		r = policy_route(conf, sa, p->listen_addrlen, probe);
		CHECK(r == p || fuzz_listed(r, probe));
	}
}

/* What a loaded configuration must hold. */
static void
fuzz_check_conf(const struct gateway_conf *conf)
{
	const struct policy *p;
	size_t i;

	CHECK(conf->file != NULL && conf->policy_dir != NULL);
	CHECK(conf->npolicies > 0 && conf->policies != NULL);
	for (i = 0; i < conf->npolicies; i++) {
		p = conf->policies[i];
		CHECK(p != NULL && p->name != NULL && p->file != NULL);
		if (i > 0)
			CHECK(strcmp(conf->policies[i - 1]->file, p->file) < 0);
		CHECK(p->listen_address != NULL && p->listen_addrlen > 0);
		CHECK(p->upstream.host != NULL && p->upstream.sni != NULL &&
		    p->upstream.ctx != NULL);
		CHECK(p->device.ctx_rsa != NULL || p->device.ctx_ecdsa != NULL);
		CHECK(p->device.nsuites > 0 &&
		    p->device.nsuites <= POLICY_MAX_SUITES);
		fuzz_check_route(conf, p);
	}
}

/* The system trust store stand-in: success at once, with the test CA
 * when there is one. */
static int
fuzz_system_ca(WOLFSSL_CTX *ctx)
{
	char path[PATH_MAX];

	if (fuzz_pki[0] == '\0')
		return WOLFSSL_SUCCESS;
	fuzz_path(path, "%s/ca.crt", fuzz_pki, 0);
	return wolfSSL_CTX_load_verify_locations(ctx, path, NULL);
}

/* Linked with -Wl,--wrap=wolfSSL_CTX_load_system_CA_certs (as
 * Makefile.am does), tlsctx.c calls this, whatever the wolfSSL. */
int __wrap_wolfSSL_CTX_load_system_CA_certs(WOLFSSL_CTX *ctx);

int
__wrap_wolfSSL_CTX_load_system_CA_certs(WOLFSSL_CTX *ctx)
{
	return fuzz_system_ca(ctx);
}

/* Without --wrap, against a shared libwolfssl, this definition in the
 * executable wins; a static libwolfssl's own wins over it. */
__attribute__((weak)) int
wolfSSL_CTX_load_system_CA_certs(WOLFSSL_CTX *ctx)
{
	return fuzz_system_ca(ctx);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR"), *pki = getenv("TLSGW_FUZZ_PKI");
	struct stat st;
	char path[PATH_MAX];
	int i;

	(void)argc;
	(void)argv;
	fuzz_verbose = getenv("TLSGW_FUZZ_VERBOSE") != NULL;
	CHECK(wolfSSL_Init() == WOLFSSL_SUCCESS);
	if (tmp == NULL || *tmp == '\0')
		tmp = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
		    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	fuzz_path(fuzz_top, "%s/tlsgw-fuzz-config.XXXXXX", tmp, 0);
	CHECK(mkdtemp(fuzz_top) != NULL);
	atexit(fuzz_cleanup);
	fuzz_path(path, "%s/a", fuzz_top, 0);
	CHECK(mkdir(path, 0700) == 0);
	fuzz_path(fuzz_dir, "%s/a/b", fuzz_top, 0);
	CHECK(mkdir(fuzz_dir, 0700) == 0);
	fuzz_path(fuzz_global, "%s/tlsgw.ini", fuzz_dir, 0);
	fuzz_path(fuzz_pdir, "%s/upstreams.d", fuzz_dir, 0);
	CHECK(mkdir(fuzz_pdir, 0700) == 0);
	fuzz_path(fuzz_policy[0], "%s/fuzz.ini", fuzz_pdir, 0);
	for (i = 1; i < FUZZ_MAX_POLICIES; i++)
		fuzz_path(fuzz_policy[i], "%s/fuzz%d.ini", fuzz_pdir, i);
	if (pki != NULL && *pki != '\0') {
		fuzz_path(fuzz_pki, "%s/pki", fuzz_dir, 0);
		CHECK(symlink(pki, fuzz_pki) == 0);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gateway_conf *conf;
	struct diag d;

	fuzz_write_files(data, size);
	diag_init(&d);
	conf = policy_load(fuzz_global, &d);
	if (fuzz_verbose) {
		size_t i;

		for (i = 0; i < d.nlines; i++)
			fprintf(stderr, "%s\n", d.lines[i]);
		fprintf(stderr, "policy_load: %s, %zu errors, %zu warnings, "
		    "%zu policies\n", conf ? "loaded" : "failed", d.nerrors,
		    d.nwarnings, conf ? conf->npolicies : 0);
	}
	CHECK((conf == NULL) == (d.nerrors > 0));
	fuzz_check_diag(&d);
	if (conf != NULL)
		fuzz_check_conf(conf);
	policy_free(conf);
	diag_free(&d);
	return 0;
}
