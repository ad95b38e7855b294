/*
 * log.h: one logger for the daemon: stderr in the foreground, syslog
 * otherwise.  log_warn appends strerror(errno), log_warnx does not.
 */
#ifndef TLSGW_LOG_H
#define TLSGW_LOG_H

#include <stdbool.h>

#include "policy.h"

#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))

void log_init(bool foreground, enum log_level level);
void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...) LOG_PRINTF(2, 3);
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
/* Start-up failures only: log and exit(1). */
void fatalx(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));

#endif
