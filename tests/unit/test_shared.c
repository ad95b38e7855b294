/*
 * test_shared.c: the connection counts workers share (gateway/shared.c):
 * limits, policy slots by name, and counting from several processes at
 * once, as forked workers do.
 */
#include <sys/wait.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "shared.h"

START_TEST(test_take_put)
{
	struct shared *sh = shared_new();
	struct shared_count *total;
	unsigned i;

	ck_assert_ptr_nonnull(sh);
	total = shared_total(sh);
	for (i = 0; i < 3; i++)
		ck_assert(shared_take(sh, total, 3));
	ck_assert(!shared_take(sh, total, 3));
	shared_put(sh, total);
	ck_assert(shared_take(sh, total, 3));
	ck_assert(!shared_take(sh, total, 3));
	/* 0: no limit. */
	ck_assert(shared_take(sh, total, 0));
	/* Never below zero, whatever the caller does. */
	for (i = 0; i < 10; i++)
		shared_put(sh, total);
	ck_assert(shared_take(sh, total, 1));
	ck_assert(!shared_take(sh, total, 1));
	shared_free(sh);
}
END_TEST

START_TEST(test_policy_slots)
{
	struct shared *sh = shared_new();
	struct shared_count *a, *b, *c;
	char name[32];
	unsigned i, got = 0;

	ck_assert_ptr_nonnull(sh);
	a = shared_policy(sh, "hivemq");
	b = shared_policy(sh, "aws");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a, b);
	ck_assert_ptr_ne(a, shared_total(sh));
	/* The same name (a policy kept across a reload): the same count. */
	ck_assert_ptr_eq(shared_policy(sh, "hivemq"), a);
	ck_assert(shared_take(sh, a, 1));
	ck_assert(!shared_take(sh, shared_policy(sh, "hivemq"), 1));
	ck_assert(shared_take(sh, b, 1));
	/* Slots run out after a few hundred names: NULL, not a shared one. */
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "policy-%u", i);
		c = shared_policy(sh, name);
		if (c == NULL)
			break;
		ck_assert_ptr_ne(c, a);
		ck_assert_ptr_ne(c, b);
		got++;
	}
	ck_assert_uint_eq(got + 2, 256);
	ck_assert_ptr_eq(shared_policy(sh, "aws"), b);
	shared_free(sh);
}
END_TEST

#define CHILDREN 4
#define TRIES 5000
#define LIMIT 7000

/* Forked processes racing for one limit: exactly LIMIT takes succeed
 * in all, and the count is then full. */
START_TEST(test_processes)
{
	struct shared *sh = shared_new();
	struct shared_count *c;
	pid_t pid[CHILDREN];
	unsigned i, j, ok, sum = 0;
	int fds[2], status;

	ck_assert_ptr_nonnull(sh);
	ck_assert_int_eq(pipe(fds), 0);
	c = shared_policy(sh, "main");
	for (i = 0; i < CHILDREN; i++) {
		pid[i] = fork();
		ck_assert_int_ge(pid[i], 0);
		if (pid[i] == 0) {
			ok = 0;
			for (j = 0; j < TRIES; j++)
				if (shared_take(sh, c, LIMIT))
					ok++;
			_exit(write(fds[1], &ok, sizeof ok) == sizeof ok ? 0 : 1);
		}
	}
	close(fds[1]);
	for (i = 0; i < CHILDREN; i++) {
		ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		ck_assert_int_eq(read(fds[0], &ok, sizeof ok), sizeof ok);
		sum += ok;
	}
	close(fds[0]);
	ck_assert_uint_eq(sum, LIMIT);
	ck_assert(!shared_take(sh, c, LIMIT));
	shared_put(sh, c);
	ck_assert(shared_take(sh, c, LIMIT));
	shared_free(sh);
}
END_TEST

static Suite *
shared_suite(void)
{
	Suite *s = suite_create("shared");
	TCase *tc = tcase_create("counts");

	tcase_add_test(tc, test_take_put);
	tcase_add_test(tc, test_policy_slots);
	tcase_add_test(tc, test_processes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(shared_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
