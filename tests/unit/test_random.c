/* Unit tests for the per-thread random buffer (random.c): values differ,
 * requests of every size are served (across refills, and past the buffer),
 * and a forked child does not repeat the bytes its parent had buffered. */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "random.h"

static void test_distinct(void)
{
	unsigned char a[16], b[16], big[10000];
	size_t zeros = 0;

	CHECK_INT(flint_random_fill(a, sizeof(a)), 0);
	CHECK_INT(flint_random_fill(b, sizeof(b)), 0);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	/* many small draws cross refills of the buffer */
	for (int i = 0; i < 1000; i++)
		CHECK_INT(flint_random_fill(a, 13), 0);
	CHECK_INT(flint_random_fill(big, sizeof(big)), 0); /* past the buffer */
	for (size_t i = 0; i < sizeof(big); i++)
		zeros += big[i] == 0;
	CHECK(zeros < 200); /* ~39 expected */
	CHECK_INT(flint_random_fill(a, 0), 0);
}

static void test_fork(void)
{
	unsigned char parent[32], child[32];
	int fds[2];
	pid_t pid;

	CHECK_INT(flint_random_fill(parent, 1), 0); /* the buffer is now full */
	CHECK_INT(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		if (flint_random_fill(child, sizeof(child)) == 0 &&
		    write(fds[1], child, sizeof(child)) == (ssize_t)sizeof(child))
			_exit(0);
		_exit(1);
	}
	close(fds[1]);
	CHECK_INT(flint_random_fill(parent, sizeof(parent)), 0);
	CHECK_INT((int)read(fds[0], child, sizeof(child)), (int)sizeof(child));
	close(fds[0]);
	waitpid(pid, NULL, 0);
	/* the child drew fresh bytes, not the parent's next ones */
	CHECK(memcmp(parent, child, sizeof(parent)) != 0);
}

int main(void)
{
	RUN(test_distinct);
	RUN(test_fork);
	return CHECK_DONE();
}
