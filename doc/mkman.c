/*
 * mkman.c: write a manual page from its roff template and the option
 * table (see policy/optdoc.h for the placeholders).
 *
 *   mkman [-a] [-s NAME=VALUE]... TEMPLATE > PAGE
 *
 * -a fails unless the page documents every option of the table;
 * -s defines @NAME@ (VERSION, SYSCONFDIR, ...).  Exit 0, or 1 with
 * "mkman: TEMPLATE:LINE: reason" on stderr.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "optdoc.h"
#include "policy.h"

#define MKMAN_MAX_VARS 32

static void
mkman_usage(void)
{
	fprintf(stderr, "usage: mkman [-a] [-s NAME=VALUE]... TEMPLATE\n");
	exit(1);
}

int
main(int argc, char **argv)
{
	const char *vars[MKMAN_MAX_VARS + 1];
	size_t nvars = 0;
	char err[256];
	int ch, n, all = 0;
	FILE *in;

	while ((ch = getopt(argc, argv, "as:")) != -1) {
		switch (ch) {
		case 'a':
			all = 1;
			break;
		case 's':
			if (strchr(optarg, '=') == NULL || nvars == MKMAN_MAX_VARS)
				mkman_usage();
			vars[nvars++] = optarg;
			break;
		default:
			mkman_usage();
		}
	}
	vars[nvars] = NULL;
	if (optind + 1 != argc)
		mkman_usage();
	if ((in = fopen(argv[optind], "r")) == NULL) {
		perror(argv[optind]);
		return 1;
	}
	n = optdoc_render(in, stdout, vars, err, sizeof err);
	fclose(in);
	if (n < 0) {
		fprintf(stderr, "mkman: %s:%s\n", argv[optind], err);
		return 1;
	}
	if (all && (size_t)n != policy_noptions) {
		fprintf(stderr, "mkman: %s: documents %d of the %zu options "
		    "(add an @OPTIONS section@ line for each section)\n",
		    argv[optind], n, policy_noptions);
		return 1;
	}
	return 0;
}
