/*
 * rss.c - run a command and report its peak resident set size.
 *
 *   rss FILE COMMAND [ARG...]
 *
 * runs COMMAND as a child, waits for it with wait4 and writes the
 * child's ru_maxrss (KiB) to FILE; exits with the child's status.
 * bench/run.py starts every measured program through it: Linux keeps a
 * process's peak RSS across exec, so a child forked straight from the
 * Python driver would report at least the driver's own 13 MB; forked
 * from this small program the floor is about 1 MB.
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct rusage ru;
	int status;
	pid_t pid;
	FILE *f;

	if (argc < 3) {
		fprintf(stderr, "usage: rss FILE COMMAND [ARG...]\n");
		return 2;
	}
	pid = fork();
	if (pid < 0) {
		perror("rss: fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror("rss: exec");
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("rss: wait4");
		return 1;
	}
	f = fopen(argv[1], "w");
	if (!f || fprintf(f, "%ld\n", ru.ru_maxrss) < 0 || fclose(f)) {
		perror("rss: cannot write the result");
		return 1;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
