/*
 * fuzz_check.h: what the fuzz targets assert beyond "no crash": a failed
 * CHECK names the condition and aborts, which libFuzzer reports as a
 * crash and keeps the input for.
 */
#ifndef TLSGW_FUZZ_CHECK_H
#define TLSGW_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #c);					\
		abort();						\
	}								\
} while (0)

#endif
