/*
 * wolfspeed.c: the crypto a gateway does per handshake and per relayed
 * byte, timed with the wolfSSL tlsgw is built against (Debian ships no
 * wolfSSL benchmark binary).  Built by bench/run.sh with that build's
 * WOLFSSL_CFLAGS and WOLFSSL_LIBS:
 *   cc -O2 -o wolfspeed wolfspeed.c $WOLFSSL_CFLAGS $WOLFSSL_LIBS
 * Usage: wolfspeed RSA_KEY.pem [SECONDS_PER_TEST]
 * Prints one line per operation: "name us_per_op ops_per_s [MB/s]", in
 * CPU time of this process (the machine may be shared).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/curve25519.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double secs = 0.5;
static WC_RNG rng;

static void
report(const char *name, long n, double t, double bytes)
{
	if (bytes > 0)
		printf("%-22s %10.2f %12.1f %10.1f\n", name, t / (double)n * 1e6,
		    (double)n / t, bytes * (double)n / t / 1e6);
	else
		printf("%-22s %10.2f %12.1f\n", name, t / (double)n * 1e6,
		    (double)n / t);
	fflush(stdout);
}

static void
bench_rsa(const char *path)
{
	static unsigned char pem[8192], der[4096], sig[512], msg[51];
	FILE *f = fopen(path, "rb");
	size_t pemlen;
	int derlen, rc;
	word32 idx = 0;
	RsaKey key;
	long n = 0;
	double t0, t;

	if (f == NULL) {
		fprintf(stderr, "wolfspeed: cannot open %s\n", path);
		return;
	}
	pemlen = fread(pem, 1, sizeof pem, f);
	fclose(f);
	derlen = wc_KeyPemToDer(pem, (word32)pemlen, der, sizeof der, NULL);
	if (derlen <= 0 || wc_InitRsaKey(&key, NULL) != 0 ||
	    wc_RsaPrivateKeyDecode(der, &idx, &key, (word32)derlen) != 0) {
		fprintf(stderr, "wolfspeed: cannot load the RSA key\n");
		return;
	}
#ifdef WC_RSA_BLINDING
	wc_RsaSetRNG(&key, &rng);
#endif
	memset(msg, 1, sizeof msg);
	t0 = now();
	do {
		rc = wc_RsaSSL_Sign(msg, sizeof msg, sig, sizeof sig, &key, &rng);
		if (rc <= 0) {
			fprintf(stderr, "wolfspeed: RSA sign failed %d\n", rc);
			return;
		}
		n++;
	} while ((t = now() - t0) < secs);
	report("rsa2048_sign", n, t, 0);
	n = 0;
	t0 = now();
	do {
		unsigned char out[512];

		rc = wc_RsaSSL_Verify(sig, (word32)rc > 0 ? 256 : 256, out,
		    sizeof out, &key);
		if (rc <= 0) {
			fprintf(stderr, "wolfspeed: RSA verify failed %d\n", rc);
			return;
		}
		n++;
	} while ((t = now() - t0) < secs);
	report("rsa2048_verify", n, t, 0);
	wc_FreeRsaKey(&key);
}

static void
bench_ecc(void)
{
	ecc_key a, b;
	unsigned char hash[32], sig[128], sec[66];
	word32 siglen, seclen;
	long n = 0;
	double t0, t;
	int ok;

	memset(hash, 7, sizeof hash);
	wc_ecc_init(&a);
	wc_ecc_init(&b);
	wc_ecc_make_key_ex(&rng, 32, &a, ECC_SECP256R1);
	wc_ecc_make_key_ex(&rng, 32, &b, ECC_SECP256R1);
	t0 = now();
	do {
		siglen = sizeof sig;
		if (wc_ecc_sign_hash(hash, sizeof hash, sig, &siglen, &rng,
		    &a) != 0) {
			fprintf(stderr, "wolfspeed: ECDSA sign failed\n");
			return;
		}
		n++;
	} while ((t = now() - t0) < secs);
	report("ecdsa_p256_sign", n, t, 0);
	n = 0;
	t0 = now();
	do {
		if (wc_ecc_verify_hash(sig, siglen, hash, sizeof hash, &ok,
		    &a) != 0 || !ok) {
			fprintf(stderr, "wolfspeed: ECDSA verify failed\n");
			return;
		}
		n++;
	} while ((t = now() - t0) < secs);
	report("ecdsa_p256_verify", n, t, 0);
	/* One ECDHE as a server does it: a fresh key, and the secret with
	 * a fresh peer key (so no per-point cache helps). */
	n = 0;
	t0 = now();
	do {
		ecc_key e, p;

		wc_ecc_init(&e);
		wc_ecc_init(&p);
		wc_ecc_make_key_ex(&rng, 32, &e, ECC_SECP256R1);
		wc_ecc_make_key_ex(&rng, 32, &p, ECC_SECP256R1);
#if defined(ECC_TIMING_RESISTANT) && !defined(HAVE_FIPS)
		wc_ecc_set_rng(&e, &rng);
#endif
		seclen = sizeof sec;
		if (wc_ecc_shared_secret(&e, &p, sec, &seclen) != 0) {
			fprintf(stderr, "wolfspeed: ECDH failed\n");
			return;
		}
		wc_ecc_free(&e);
		wc_ecc_free(&p);
		n++;
	} while ((t = now() - t0) < secs);
	/* That loop made two keys: count one keygen + one derive per op by
	 * timing keygen alone and subtracting it. */
	{
		long m = 0;
		double t1 = now(), tk;

		do {
			ecc_key e;

			wc_ecc_init(&e);
			wc_ecc_make_key_ex(&rng, 32, &e, ECC_SECP256R1);
			wc_ecc_free(&e);
			m++;
		} while ((tk = now() - t1) < secs);
		report("ecdh_p256_keygen", m, tk, 0);
		report("ecdhe_p256_full", n, t - (tk / (double)m) * (double)n, 0);
	}
	wc_ecc_free(&a);
	wc_ecc_free(&b);
}

static void
bench_x25519(void)
{
#ifdef HAVE_CURVE25519
	long n = 0;
	double t0, t;
	unsigned char sec[32];
	word32 seclen;
	curve25519_key peer;

	wc_curve25519_init(&peer);
	wc_curve25519_make_key(&rng, 32, &peer);
	t0 = now();
	do {
		curve25519_key e;

		wc_curve25519_init(&e);
		wc_curve25519_make_key(&rng, 32, &e);
		seclen = sizeof sec;
		if (wc_curve25519_shared_secret(&e, &peer, sec, &seclen) != 0) {
			fprintf(stderr, "wolfspeed: X25519 failed\n");
			return;
		}
		wc_curve25519_free(&e);
		n++;
	} while ((t = now() - t0) < secs);
	report("ecdhe_x25519_full", n, t, 0);
	wc_curve25519_free(&peer);
#endif
}

static void
bench_gcm(void)
{
	static unsigned char in[16384], out[16384];
	unsigned char key[16] = { 1 }, iv[12] = { 2 }, tag[16], aad[13] = { 0 };
	Aes aes;
	long n = 0;
	double t0, t;

	wc_AesInit(&aes, NULL, INVALID_DEVID);
	wc_AesGcmSetKey(&aes, key, sizeof key);
	t0 = now();
	do {
		wc_AesGcmEncrypt(&aes, out, in, sizeof in, iv, sizeof iv, tag,
		    sizeof tag, aad, sizeof aad);
		n++;
	} while ((t = now() - t0) < secs);
	report("aes128gcm_16k_enc", n, t, sizeof in);
	n = 0;
	t0 = now();
	do {
		wc_AesGcmEncrypt(&aes, out, in, 1024, iv, sizeof iv, tag,
		    sizeof tag, aad, sizeof aad);
		n++;
	} while ((t = now() - t0) < secs);
	report("aes128gcm_1k_enc", n, t, 1024);
	wc_AesFree(&aes);
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: wolfspeed RSA_KEY.pem [SECONDS]\n");
		return 2;
	}
	if (argc > 2)
		secs = atof(argv[2]);
	if (wc_InitRng(&rng) != 0) {
		fprintf(stderr, "wolfspeed: no RNG\n");
		return 1;
	}
	printf("%-22s %10s %12s %10s\n", "op", "us/op", "ops/s", "MB/s");
	bench_rsa(argv[1]);
	bench_ecc();
	bench_x25519();
	bench_gcm();
	wc_FreeRng(&rng);
	return 0;
}
