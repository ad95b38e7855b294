/*
 * pki-store.c: the PKI directory.
 *
 * Every command stages its files under temporary names next to their
 * final ones and renames them only once all are written, so a failure
 * (full disk, bad directory, a crypto error) leaves nothing half-made.
 * DIR/index.txt records every certificate issued; DIR/.lock serializes
 * concurrent commands.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pki.h"

#define INDEX_FILE "index.txt"
#define INDEX_HEADER "# tlsgw pki index: serial kind name not-after " \
	"status revoked-at\n"

static const char *const kind_names[PKI_KIND_COUNT] = {
	[PKI_CA_RSA] = "ca-rsa",
	[PKI_CA_EC] = "ca-ec",
	[PKI_SERVER_RSA] = "server-rsa",
	[PKI_SERVER_EC] = "server-ec",
	[PKI_DEVICE_EC] = "device-ec",
	[PKI_DEVICE_RSA] = "device-rsa",
};

/* ---- messages, buffers, paths -------------------------------------- */

void
pki_err(const char *fmt, ...)
{
	va_list ap;

	fputs("tlsgw pki: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
pki_errno(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	fputs("tlsgw pki: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(saved));
}

void
pki_buf_free(struct pki_buf *b)
{
	if (b->data != NULL)
		explicit_bzero(b->data, b->len);
	free(b->data);
	b->data = NULL;
	b->len = 0;
}

int
pki_buf_cat(struct pki_buf *b, const void *p, size_t len)
{
	unsigned char *q;

	/* A fresh copy rather than realloc: the old block may hold a key
	 * and must be zeroed before it goes back to the allocator. */
	q = malloc(b->len + len + 1);
	if (q == NULL) {
		pki_err("out of memory");
		return -1;
	}
	if (b->len > 0)
		memcpy(q, b->data, b->len);
	if (len > 0 && p != NULL)
		memcpy(q + b->len, p, len);
	else if (len > 0)
		memset(q + b->len, 0, len);     /* room to fill later */
	q[b->len + len] = '\0';         /* text buffers stay C strings */
	len += b->len;
	pki_buf_free(b);
	b->data = q;
	b->len = len;
	return 0;
}

int
pki_buf_set(struct pki_buf *b, const void *p, size_t len)
{
	pki_buf_free(b);
	return pki_buf_cat(b, p, len);
}

/* asprintf or exit: paths are tiny and this is a command-line tool. */
static char *
xasprintf2(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + (c ? strlen(c) : 0) + 3;
	char *s = malloc(n);

	if (s == NULL) {
		pki_err("out of memory");
		exit(1);
	}
	if (c == NULL)
		snprintf(s, n, "%s/%s", a, b);
	else
		snprintf(s, n, "%s/%s/%s", a, b, c);
	return s;
}

char *
pki_path(const char *dir, const char *name)
{
	return xasprintf2(dir, name, NULL);
}

char *
pki_path3(const char *dir, const char *sub, const char *name)
{
	return xasprintf2(dir, sub, name);
}

bool
pki_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int
pki_read_file(const char *path, struct pki_buf *b)
{
	unsigned char tmp[4096];
	FILE *f = fopen(path, "rb");
	size_t n;
	int rc = 0;

	pki_buf_free(b);
	if (f == NULL) {
		pki_errno("cannot open %s", path);
		return -1;
	}
	while (rc == 0 && (n = fread(tmp, 1, sizeof tmp, f)) > 0)
		rc = pki_buf_cat(b, tmp, n);
	if (rc == 0 && ferror(f)) {
		pki_errno("cannot read %s", path);
		rc = -1;
	}
	explicit_bzero(tmp, sizeof tmp);
	fclose(f);
	if (rc < 0)
		pki_buf_free(b);
	return rc;
}

/* ---- kinds --------------------------------------------------------- */

const char *
pki_kind_name(enum pki_kind k)
{
	return k < PKI_KIND_COUNT ? kind_names[k] : "?";
}

bool
pki_kind_parse(const char *s, enum pki_kind *k)
{
	int i;

	for (i = 0; i < PKI_KIND_COUNT; i++) {
		if (strcmp(s, kind_names[i]) == 0) {
			*k = (enum pki_kind)i;
			return true;
		}
	}
	return false;
}

bool
pki_kind_is_rsa(enum pki_kind k)
{
	return k == PKI_CA_RSA || k == PKI_SERVER_RSA || k == PKI_DEVICE_RSA;
}

/* ---- staged writes ------------------------------------------------- */

void
pki_txn_init(struct pki_txn *t)
{
	memset(t, 0, sizeof *t);
}

int
pki_txn_mkdir(struct pki_txn *t, const char *dir, unsigned mode)
{
	struct stat st;

	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		pki_err("%s exists and is not a directory", dir);
		return -1;
	}
	if (mkdir(dir, (mode_t)mode) < 0) {
		pki_errno("cannot create directory %s", dir);
		return -1;
	}
	if (t->ndirs < sizeof t->made_dir / sizeof t->made_dir[0])
		t->made_dir[t->ndirs++] = strdup(dir);
	return 0;
}

int
pki_txn_mkdirs(struct pki_txn *t, const char *dir, unsigned mode)
{
	char *p = strdup(dir), *s;
	int rc = 0;

	if (p == NULL) {
		pki_err("out of memory");
		return -1;
	}
	for (s = p + 1; *s != '\0' && rc == 0; s++) {
		if (*s != '/' || s[-1] == '/')
			continue;
		*s = '\0';
		rc = pki_txn_mkdir(t, p, 0755);
		*s = '/';
	}
	if (rc == 0)
		rc = pki_txn_mkdir(t, p, mode);
	free(p);
	return rc;
}

/* Write all of data to fd; -1 on error. */
static int
write_all(int fd, const unsigned char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Create tmp with exactly mode and data, flushed to disk. */
static int
write_new_file(const char *tmp, const void *data, size_t len, unsigned mode)
{
	/* O_EXCL: never follow a planted link; the exact mode from the
	 * start, so a key is never readable by others, whatever umask. */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0) {
		pki_errno("cannot create %s", tmp);
		return -1;
	}
	if (fchmod(fd, (mode_t)mode) < 0 || write_all(fd, data, len) < 0 ||
	    fsync(fd) < 0) {
		pki_errno("cannot write %s", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) < 0) {
		pki_errno("cannot write %s", tmp);
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
pki_txn_write(struct pki_txn *t, const char *path, const void *data,
    size_t len, unsigned mode)
{
	struct stat st;
	char *tmp, *dst;
	size_t n;

	if (t->n == PKI_TXN_MAX) {
		pki_err("internal error: too many files in one step");
		return -1;
	}
	/* The one rename that could fail late: found now, before any. */
	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		pki_err("%s is a directory", path);
		return -1;
	}
	n = strlen(path) + 32;
	tmp = malloc(n);
	dst = strdup(path);
	if (tmp == NULL || dst == NULL) {
		pki_err("out of memory");
		free(tmp);
		free(dst);
		return -1;
	}
	snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
	if (write_new_file(tmp, data, len, mode) < 0) {
		free(tmp);
		free(dst);
		return -1;
	}
	t->tmp[t->n] = tmp;
	t->dst[t->n] = dst;
	t->n++;
	return 0;
}

/* Forget the staged names (files already renamed or removed). */
static void
txn_clear(struct pki_txn *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->tmp[i]);
		free(t->dst[i]);
	}
	for (i = 0; i < t->ndirs; i++)
		free(t->made_dir[i]);
	pki_txn_init(t);
}

int
pki_txn_commit(struct pki_txn *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		if (rename(t->tmp[i], t->dst[i]) < 0) {
			pki_errno("cannot rename %s to %s", t->tmp[i],
			    t->dst[i]);
			/* The rest stay staged: remove them. */
			for (; i < t->n; i++)
				unlink(t->tmp[i]);
			txn_clear(t);
			return -1;
		}
	}
	txn_clear(t);
	return 0;
}

void
pki_txn_abort(struct pki_txn *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		unlink(t->tmp[i]);
	for (i = t->ndirs; i > 0; i--) {
		/* A directory made in this run holds no lock but ours. */
		char *lock = pki_path(t->made_dir[i - 1], ".lock");

		unlink(lock);
		free(lock);
		rmdir(t->made_dir[i - 1]);
	}
	txn_clear(t);
}

/* ---- lock ---------------------------------------------------------- */

int
pki_lock(const char *dir)
{
	char *path = pki_path(dir, ".lock");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		pki_errno("cannot open %s", path);
		free(path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			pki_err("%s: another `tlsgw pki` is running in %s",
			    path, dir);
		else
			pki_errno("cannot lock %s", path);
		close(fd);
		free(path);
		return -1;
	}
	free(path);
	return fd;
}

void
pki_unlock(int fd)
{
	if (fd >= 0)
		close(fd);              /* releases the flock */
}

/* ---- index --------------------------------------------------------- */

/* "2036-11-19T00:03:53Z" <-> time_t. */
static void
fmt_time(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int
parse_time(const char *s, time_t *t)
{
	struct tm tm;
	char z, extra;

	memset(&tm, 0, sizeof tm);
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c%c", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z,
	    &extra) != 7 || z != 'Z')
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*t = timegm(&tm);
	return 0;
}

/* One tab-separated line into e; -1 if malformed. */
static int
parse_entry(char *line, struct pki_entry *e)
{
	char *f[6], *save = NULL, *s = line;
	size_t n = 0;

	memset(e, 0, sizeof *e);
	while (n < 6 && (f[n] = strtok_r(s, "\t", &save)) != NULL) {
		s = NULL;
		n++;
	}
	if (n != 6 || strtok_r(NULL, "\t", &save) != NULL)
		return -1;
	if (strlen(f[0]) >= sizeof e->serial || strlen(f[2]) >= sizeof e->name
	    || f[0][strspn(f[0], "0123456789ABCDEF")] != '\0')
		return -1;
	strcpy(e->serial, f[0]);
	strcpy(e->name, f[2]);
	if (!pki_kind_parse(f[1], &e->kind) || parse_time(f[3],
	    &e->not_after) < 0)
		return -1;
	if (strcmp(f[4], "revoked") == 0) {
		e->revoked = true;
		return parse_time(f[5], &e->revoked_at);
	}
	return strcmp(f[4], "valid") == 0 && strcmp(f[5], "-") == 0 ? 0 : -1;
}

int
pki_index_load(const char *dir, struct pki_index *ix)
{
	char *path = pki_path(dir, INDEX_FILE), line[1024];
	struct pki_entry e;
	unsigned lineno = 0;
	FILE *f;
	int rc = 0;

	memset(ix, 0, sizeof *ix);
	if ((f = fopen(path, "r")) == NULL) {
		if (errno != ENOENT) {
			pki_errno("cannot open %s", path);
			rc = -1;
		}
		free(path);
		return rc;
	}
	while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (parse_entry(line, &e) < 0 || pki_index_add(ix, &e) < 0) {
			pki_err("%s:%u: malformed line", path, lineno);
			rc = -1;
		}
	}
	fclose(f);
	free(path);
	if (rc < 0)
		pki_index_free(ix);
	return rc;
}

void
pki_index_free(struct pki_index *ix)
{
	free(ix->e);
	memset(ix, 0, sizeof *ix);
}

int
pki_index_add(struct pki_index *ix, const struct pki_entry *e)
{
	struct pki_entry *p = realloc(ix->e, (ix->n + 1) * sizeof *p);

	if (p == NULL) {
		pki_err("out of memory");
		return -1;
	}
	ix->e = p;
	ix->e[ix->n++] = *e;
	return 0;
}

int
pki_index_format(const struct pki_index *ix, struct pki_buf *out)
{
	char line[512], na[32], ra[32];
	size_t i;

	if (pki_buf_set(out, INDEX_HEADER, strlen(INDEX_HEADER)) < 0)
		return -1;
	for (i = 0; i < ix->n; i++) {
		const struct pki_entry *e = &ix->e[i];

		fmt_time(e->not_after, na, sizeof na);
		if (e->revoked)
			fmt_time(e->revoked_at, ra, sizeof ra);
		else
			strcpy(ra, "-");
		snprintf(line, sizeof line, "%s\t%s\t%s\t%s\t%s\t%s\n",
		    e->serial, pki_kind_name(e->kind), e->name, na,
		    e->revoked ? "revoked" : "valid", ra);
		if (pki_buf_cat(out, line, strlen(line)) < 0)
			return -1;
	}
	return 0;
}

bool
pki_index_has_serial(const struct pki_index *ix, const char *serial)
{
	size_t i;

	for (i = 0; i < ix->n; i++)
		if (strcmp(ix->e[i].serial, serial) == 0)
			return true;
	return false;
}

struct pki_entry *
pki_index_find(struct pki_index *ix, enum pki_kind k, const char *name)
{
	size_t i;

	for (i = ix->n; i > 0; i--) {
		struct pki_entry *e = &ix->e[i - 1];

		if (e->kind == k && !e->revoked &&
		    (name == NULL || strcmp(e->name, name) == 0))
			return e;
	}
	return NULL;
}
