/*
 * fuzz_der.c: libFuzzer target for the certificate reader (policy/der.c),
 * which reads the device's certificate under client_ca and every
 * certificate file a configuration names.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=undefined -Ipolicy \
 *       tests/fuzz/fuzz_der.c policy/der.c -o fuzz_der
 *   ./fuzz_der -max_len=4096 tests/fuzz/corpus/der
 *
 * Seeds: DER certificates like the ones tlsgw meets (RSA and ECDSA
 * leaves with SANs, CAs without).  Beyond "no crash, no over-read", it
 * checks that:
 *  - a parsed certificate's fields lie inside the input;
 *  - CN and DNS names are C strings that fit and hold no NUL, and the
 *    walk over the DNS names ends (each step moves forward);
 *  - the certificate cut short by one byte never parses (bytes after
 *    it are ignored).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "der.h"

#include "fuzz_check.h"

static void
check_inside(const struct der_tlv *t, const uint8_t *p, size_t n)
{
	if (t->len == 0 && t->val == NULL)
		return;
	CHECK(t->val >= p && t->val + t->len <= p + n);
}

static void
check_names(const struct der_cert *c)
{
	char name[64];
	size_t pos = 0, last = 0;
	int steps = 0;

	if (der_cert_cn(c, name, sizeof name))
		CHECK(strlen(name) < sizeof name);
	while (der_cert_next_dns(c, &pos, name, sizeof name)) {
		CHECK(strlen(name) < sizeof name);
		CHECK(pos > last);
		last = pos;
		CHECK(++steps < 100000);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct der_cert c;
	struct der_tlv whole;
	const uint8_t *p;
	uint8_t *copy;

	/* An exact-size copy: ASan sees any read past the end. */
	copy = malloc(size > 0 ? size : 1);
	CHECK(copy != NULL);
	memcpy(copy, data, size);
	if (der_parse_cert(copy, size, &c) == 0) {
		check_inside(&c.tbs, copy, size);
		check_inside(&c.subject, copy, size);
		check_inside(&c.spki, copy, size);
		check_inside(&c.extensions, copy, size);
		if (c.rsa) {
			check_inside(&c.rsa_n, copy, size);
			check_inside(&c.rsa_e, copy, size);
		} else {
			check_inside(&c.ec_point, copy, size);
		}
		check_names(&c);
		/* Bytes after the certificate are ignored; cutting into it
		 * must fail. */
		p = copy;
		CHECK(der_read(&p, copy + size, &whole) == 0);
		CHECK(der_parse_cert(copy, whole.rawlen - 1, &c) != 0);
	}
	free(copy);
	return 0;
}
