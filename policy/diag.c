/*
 * diag.c: the list of errors and warnings a load collects, each already
 * formatted as "file:line: message" (warnings as
 * "file:line: warning: message"), so that `tlsgw -t`, a start and a
 * reload all print every problem, not only the first.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

void
diag_init(struct diag *d)
{
	memset(d, 0, sizeof *d);
}

void
diag_free(struct diag *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nlines; i++)
		free(d->lines[i]);
	free(d->lines);
	memset(d, 0, sizeof *d);
}

/* Format one message with its location prefix into a new string. */
static char *
diag_format(const char *file, int line, const char *kind, const char *fmt,
    va_list ap)
{
	char prefix[64], *msg, *out;
	va_list ap2;
	int n, m;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || (msg = malloc((size_t)n + 1)) == NULL)
		return NULL;
	vsnprintf(msg, (size_t)n + 1, fmt, ap);

	if (line > 0)
		snprintf(prefix, sizeof prefix, ":%d: %s", line, kind);
	else
		snprintf(prefix, sizeof prefix, ": %s", kind);
	if (file == NULL || *file == '\0') {
		file = "";
		snprintf(prefix, sizeof prefix, "%s", kind);
	}
	m = snprintf(NULL, 0, "%s%s%s", file, prefix, msg);
	out = m < 0 ? NULL : malloc((size_t)m + 1);
	if (out != NULL)
		snprintf(out, (size_t)m + 1, "%s%s%s", file, prefix, msg);
	free(msg);
	return out;
}

/* Append a message; when memory runs out the count still goes up, so
 * a failed load never looks like a successful one. */
static void
diag_add(struct diag *d, const char *file, int line, const char *kind,
    const char *fmt, va_list ap)
{
	char *s, **lines;

	s = diag_format(file, line, kind, fmt, ap);
	if (s == NULL)
		return;
	lines = realloc(d->lines, (d->nlines + 1) * sizeof *lines);
	if (lines == NULL) {
		free(s);
		return;
	}
	d->lines = lines;
	d->lines[d->nlines++] = s;
}

void
diag_error(struct diag *d, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	d->nerrors++;
	va_start(ap, fmt);
	diag_add(d, file, line, "", fmt, ap);
	va_end(ap);
}

void
diag_warn(struct diag *d, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	d->nwarnings++;
	va_start(ap, fmt);
	diag_add(d, file, line, "warning: ", fmt, ap);
	va_end(ap);
}
