/*
 * log.c: stderr or syslog, with levels.  Connection code prefixes its
 * own lines with the device address; this file only formats and routes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static bool log_foreground = true;
static enum log_level log_level = LOG_LEVEL_INFO;

static const int log_syslog_prio[] = {
	[LOG_LEVEL_ERROR] = LOG_ERR,
	[LOG_LEVEL_WARN] = LOG_WARNING,
	[LOG_LEVEL_INFO] = LOG_INFO,
	[LOG_LEVEL_DEBUG] = LOG_DEBUG,
};

static const char *const log_tag[] = {
	[LOG_LEVEL_ERROR] = "error: ",
	[LOG_LEVEL_WARN] = "warning: ",
	[LOG_LEVEL_INFO] = "",
	[LOG_LEVEL_DEBUG] = "debug: ",
};

void
log_init(bool foreground, enum log_level level)
{
	log_foreground = foreground;
	log_level = level;
	if (!foreground)
		openlog("tlsgw", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

bool
log_enabled(enum log_level level)
{
	return level <= log_level;
}

/* Format once, then write one whole line so concurrent writers do not
 * interleave inside a line. */
static void
log_vemit(enum log_level level, const char *suffix, const char *fmt,
    va_list ap)
{
	char line[2048];
	int n;

	if (!log_enabled(level))
		return;
	n = vsnprintf(line, sizeof line, fmt, ap);
	if (n < 0)
		return;
	if (suffix != NULL && (size_t)n < sizeof line)
		snprintf(line + n, sizeof line - (size_t)n, ": %s", suffix);
	if (!log_foreground) {
		syslog(log_syslog_prio[level], "%s%s", log_tag[level], line);
		return;
	}
	fprintf(stderr, "tlsgw: %s%s\n", log_tag[level], line);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(level, NULL, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	const char *err = strerror(errno);

	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_WARN, err, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_WARN, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_INFO, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_DEBUG, NULL, fmt, ap);
	va_end(ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_ERROR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
