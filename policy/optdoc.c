/*
 * optdoc.c: the option reference of tlsgw.ini(5), written from
 * policy_options[] into a hand-written roff template
 * (doc/tlsgw.ini.5.in).  Every placeholder must resolve, or rendering
 * fails: a template cannot name an option or a section the loader does
 * not know.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "optdoc.h"
#include "policy.h"
#include "suites.h"

void
optdoc_escape(FILE *out, const char *s)
{
	bool bol = true;

	for (; *s != '\0'; s++) {
		/* ".  " ends a sentence: start a new line, as roff wants */
		if (*s == '.' && s[1] == ' ' && s[2] == ' ') {
			fputs(".\n", out);
			for (s++; s[1] == ' '; s++)
				;
			bol = true;
			continue;
		}
		if (*s == ' ' && s[1] == ' ')
			continue;
		if (bol && (*s == '.' || *s == '\''))
			fputs("\\&", out);
		bol = false;
		if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '-')
			fputs("\\-", out);
		else if (*s == '\n') {
			fputc('\n', out);
			bol = true;
		} else
			fputc(*s, out);
	}
}

/* A word in bold, escaped. */
static void
optdoc_bold(FILE *out, const char *word)
{
	fputs("\\fB", out);
	optdoc_escape(out, word);
	fputs("\\fR", out);
}

/* A placeholder in italics. */
static void
optdoc_italic(FILE *out, const char *word)
{
	fputs("\\fI", out);
	optdoc_escape(out, word);
	fputs("\\fR", out);
}

/* What the value looks like: literal words bold, placeholders italic. */
static void
optdoc_value(FILE *out, const struct policy_option *o)
{
	static const char *const generic[] = {
		[POPT_STRING] = "text", [POPT_PATH] = "path",
		[POPT_HOST] = "host", [POPT_UINT] = "number",
		[POPT_SIZE] = "bytes", [POPT_ALPN] = "protocols",
		[POPT_LIST] = "names", [POPT_SNI] = "names",
	};
	size_t i;

	switch (o->type) {
	case POPT_CHOICE:
		for (i = 0; o->choices[i] != NULL; i++) {
			if (i > 0)
				fputc('|', out);
			optdoc_bold(out, o->choices[i]);
		}
		return;
	case POPT_BOOL:
		fputs("\\fByes\\fR|\\fBno\\fR", out);
		return;
	case POPT_WORKERS:
		fputs("\\fBauto\\fR|", out);
		optdoc_italic(out, o->arg ? o->arg : "number");
		return;
	case POPT_VERSION:
		if (o->min <= TLSV_TLS12 && o->max >= TLSV_TLS12)
			fputs("\\fB1.2\\fR", out);
		if (o->min <= TLSV_TLS12 && o->max >= TLSV_TLS13)
			fputc('|', out);
		if (o->max >= TLSV_TLS13)
			fputs("\\fB1.3\\fR", out);
		return;
	case POPT_SUITES:
		fputs("\\fBmodern\\fR|\\fBcompat\\fR|\\fBlegacy\\fR|"
		    "\\fIsuite\\-list\\fR", out);
		return;
	case POPT_CA:
		fputs("\\fBsystem\\fR|\\fIpath\\fR", out);
		return;
	case POPT_CLIENT_ID:
		fputs("\\fBpassthrough\\fR|\\fBdevice\\-cn\\fR|"
		    "\\fBprefix:\\fR\\fItext\\fR", out);
		return;
	case POPT_ADDRESS:
		fputs("\\fIIPv4\\fB:\\fIport\\fR|\\fB[\\fIIPv6\\fB]:\\fIport\\fR",
		    out);
		return;
	default:
		optdoc_italic(out, o->arg ? o->arg :
		    (size_t)o->type < sizeof generic / sizeof generic[0] &&
		    generic[o->type] ? generic[o->type] : "value");
		return;
	}
}

void
optdoc_option(FILE *out, const struct policy_option *o)
{
	fputs(".TP\n", out);
	optdoc_bold(out, o->name);
	fputs(" = ", out);
	optdoc_value(out, o);
	fputc('\n', out);
	optdoc_escape(out, o->help);
	fputc('\n', out);
	if (o->type == POPT_UINT || o->type == POPT_SIZE ||
	    o->type == POPT_WORKERS)
		fprintf(out, "Range: %lld to %lld%s.\n", o->min, o->max,
		    o->type == POPT_SIZE ? " bytes" : "");
	if (o->def != NULL) {
		fputs("Default: ", out);
		optdoc_bold(out, o->def);
		fputs(".\n", out);
	} else if (o->flags & POPT_REQUIRED)
		fputs("Required.\n", out);
}

/* The option written "section.key" in a template, or NULL. */
static const struct policy_option *
optdoc_find(const char *spec)
{
	const char *dot = strchr(spec, '.');
	size_t i, slen;

	if (dot == NULL)
		return NULL;
	slen = (size_t)(dot - spec);
	for (i = 0; i < policy_noptions; i++) {
		const struct policy_option *o = &policy_options[i];

		if (strlen(o->section) == slen &&
		    strncmp(o->section, spec, slen) == 0 &&
		    strcmp(o->name, dot + 1) == 0)
			return o;
	}
	return NULL;
}

/* Write every option of a section; false when it has none. */
static bool
optdoc_section(FILE *out, const char *section, bool *done)
{
	size_t i;
	bool any = false;

	fprintf(out, ".\\\" options of [%s]\n", section);
	for (i = 0; i < policy_noptions; i++) {
		if (strcmp(policy_options[i].section, section) != 0)
			continue;
		optdoc_option(out, &policy_options[i]);
		done[i] = any = true;
	}
	return any;
}

/* Resolve one inline placeholder (the text between two '@'); false when
 * unknown. */
static bool
optdoc_placeholder(FILE *out, const char *name, const char *const *vars)
{
	const struct policy_option *o;
	size_t len = strlen(name);

	if (strncmp(name, "DEFAULT ", 8) == 0) {
		if ((o = optdoc_find(name + 8)) == NULL || o->def == NULL)
			return false;
		optdoc_escape(out, o->def);
		return true;
	}
	if (strcmp(name, "MAX_LINE") == 0) {
		fprintf(out, "%d", POLICY_MAX_LINE);
		return true;
	}
	if (strcmp(name, "MAX_PASSWORD") == 0) {
		fprintf(out, "%d", POLICY_MAX_PASSWORD_FILE);
		return true;
	}
	for (; vars != NULL && *vars != NULL; vars++) {
		if (strncmp(*vars, name, len) == 0 && (*vars)[len] == '=') {
			optdoc_escape(out, *vars + len + 1);
			return true;
		}
	}
	return false;
}

/* One template line (without its newline); false with err set. */
static bool
optdoc_line(FILE *out, char *s, const char *const *vars, bool *done,
    int lineno, char *err, size_t errlen)
{
	char *at, *end;

	if (strncmp(s, "@OPTIONS ", 9) == 0 && (end = strchr(s + 9, '@')) &&
	    end[1] == '\0') {
		*end = '\0';
		if (!optdoc_section(out, s + 9, done)) {
			snprintf(err, errlen, "%d: no options in section [%s]",
			    lineno, s + 9);
			return false;
		}
		return true;
	}
	while ((at = strchr(s, '@')) != NULL) {
		fwrite(s, 1, (size_t)(at - s), out);
		if ((end = strchr(at + 1, '@')) == NULL) {
			snprintf(err, errlen, "%d: '@' without its closing '@' "
			    "(write \\(at for a literal one)", lineno);
			return false;
		}
		*end = '\0';
		if (!optdoc_placeholder(out, at + 1, vars)) {
			snprintf(err, errlen, "%d: unknown placeholder @%s@",
			    lineno, at + 1);
			return false;
		}
		s = end + 1;
	}
	fputs(s, out);
	fputc('\n', out);
	return true;
}

int
optdoc_render(FILE *in, FILE *out, const char *const *vars, char *err,
    size_t errlen)
{
	char *line = NULL;
	size_t cap = 0, i;
	ssize_t n;
	bool *done;
	int lineno = 0, count = -1;

	if ((done = calloc(policy_noptions, sizeof *done)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while ((n = getline(&line, &cap, in)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (!optdoc_line(out, line, vars, done, lineno, err, errlen))
			goto out;
	}
	if (ferror(in) || fflush(out) != 0 || ferror(out)) {
		snprintf(err, errlen, "%s", strerror(errno ? errno : EIO));
		goto out;
	}
	for (count = 0, i = 0; i < policy_noptions; i++)
		count += done[i];
out:
	free(line);
	free(done);
	return count;
}
