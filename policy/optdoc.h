/*
 * optdoc.h: the manual pages' option reference, written from the option
 * table (name, section, type, range, default, help), so that the pages
 * cannot drift from what the loader accepts.  doc/mkman is a thin
 * command around optdoc_render(); the unit tests call it directly.
 */
#ifndef TLSGW_OPTDOC_H
#define TLSGW_OPTDOC_H

#include <stddef.h>
#include <stdio.h>

#include "policy.h"

/*
 * Copy the roff template in to out, replacing placeholders:
 *   @NAME@                 the value of "NAME=value" in vars (a
 *                          NULL-terminated list; NULL: none)
 *   @DEFAULT section.key@  that option's default as written
 *   @MAX_LINE@             the longest line the loader accepts
 *   @MAX_PASSWORD@         the largest password_file, in bytes
 *   @OPTIONS section@      (alone on its line) the section's options, as
 *                          a .TP list preceded by the comment line
 *                          `.\" options of [section]`
 * A template can write a literal '@' as \(at.  Returns the number of
 * distinct options written by @OPTIONS lines, or -1 with a reason in
 * err ("LINE: unknown placeholder @FOO@", a write error, ...).
 */
int optdoc_render(FILE *in, FILE *out, const char *const *vars, char *err,
    size_t errlen);

/* One option as a .TP paragraph: "name = value-syntax", the help text,
 * its range, its default or "Required." */
void optdoc_option(FILE *out, const struct policy_option *o);

/* Text for roff: backslashes and hyphens escaped, a leading '.' or '\''
 * guarded, one sentence per output line. */
void optdoc_escape(FILE *out, const char *text);

#endif
