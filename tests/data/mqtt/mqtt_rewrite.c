/*
 * mqtt_rewrite.c: a developer tool for broker-check.sh, not built by
 * make: read a CONNECT from a file, rewrite it with gateway/mqtt.c as
 * the gateway would, write the result.
 *
 * usage: mqtt_rewrite IN OUT [-i id] [-u user] [-P password] [-U] [-N]
 *   -U drops the username, -N drops the password.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mqtt.h"

static struct mqtt_span *
span(struct mqtt_span *s, const char *v)
{
	s->p = (const uint8_t *)v;
	s->len = v != NULL ? strlen(v) : 0;
	return s;
}

int
main(int argc, char **argv)
{
	struct mqtt_span ids, users, passes;
	struct mqtt_span *id = NULL, *user = NULL, *pass = NULL;
	struct mqtt_connect m;
	uint8_t in[65536], out[70000];
	size_t n;
	ssize_t len;
	FILE *f;
	int c, rc;

	if (argc < 3) {
		fprintf(stderr, "usage: mqtt_rewrite IN OUT [-i id] [-u user] "
		    "[-P password] [-U] [-N]\n");
		return 2;
	}
	optind = 3;
	while ((c = getopt(argc, argv, "i:u:P:UN")) != -1) {
		switch (c) {
		case 'i': id = span(&ids, optarg); break;
		case 'u': user = span(&users, optarg); break;
		case 'P': pass = span(&passes, optarg); break;
		case 'U': user = span(&users, NULL); break;
		case 'N': pass = span(&passes, NULL); break;
		default: return 2;
		}
	}
	if ((f = fopen(argv[1], "rb")) == NULL) {
		perror(argv[1]);
		return 1;
	}
	n = fread(in, 1, sizeof in, f);
	fclose(f);
	if ((rc = mqtt_connect_parse(in, n, sizeof in, &m)) != MQTT_OK) {
		fprintf(stderr, "%s: %s\n", argv[1], mqtt_strerror(rc));
		return 1;
	}
	len = mqtt_connect_build(&m, id, user, pass, out, sizeof out);
	if (len < 0) {
		fprintf(stderr, "build: %s\n", mqtt_strerror((int)len));
		return 1;
	}
	if ((f = fopen(argv[2], "wb")) == NULL ||
	    fwrite(out, 1, (size_t)len, f) != (size_t)len || fclose(f) != 0) {
		perror(argv[2]);
		return 1;
	}
	return 0;
}
