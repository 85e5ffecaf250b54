/* Test helper: runs pebble-challtestsrv as a mock DNS server for one test
 * process (killed at exit and if the test dies) and drives its management API. */
#ifndef FLINT_TEST_CHALLTESTSRV_H
#define FLINT_TEST_CHALLTESTSRV_H

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "validate/resolver.h"

#define CTS_BIN "/usr/bin/pebble-challtestsrv"

static pid_t cts_pid = -1;
static int cts_mgmt_port;

static void cts_stop(void)
{
	if (cts_pid > 0) {
		kill(cts_pid, SIGKILL);
		waitpid(cts_pid, NULL, 0);
		cts_pid = -1;
	}
}

static void cts_on_signal(int sig)
{
	if (cts_pid > 0)
		kill(cts_pid, SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void cts_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static bool cts_tcp_ready(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Starts the server with DNS on dns_port and management on mgmt_port; false
 * (the test fails) when the binary is missing or it does not come up. */
static bool cts_start(int dns_port, int mgmt_port)
{
	char dns[32], mgmt[32], fwd[32];
	struct flint_resolver *r = NULL;
	bool up = false;

	if (access(CTS_BIN, X_OK) != 0)
		return false;
	snprintf(dns, sizeof(dns), "127.0.0.1:%d", dns_port);
	snprintf(mgmt, sizeof(mgmt), "127.0.0.1:%d", mgmt_port);
	cts_mgmt_port = mgmt_port;
	cts_pid = fork();
	if (cts_pid < 0)
		return false;
	if (cts_pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (devnull >= 0) {
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		execl(CTS_BIN, CTS_BIN, "-dns01", dns, "-http01", "", "-https01", "", "-tlsalpn01", "",
		      "-management", mgmt, "-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
		      (char *)NULL);
		_exit(127);
	}
	atexit(cts_stop);
	signal(SIGABRT, cts_on_signal);
	signal(SIGSEGV, cts_on_signal);
	signal(SIGTERM, cts_on_signal);
	signal(SIGINT, cts_on_signal);
	for (int i = 0; i < 100 && !cts_tcp_ready(mgmt_port); i++)
		cts_sleep_ms(100);
	snprintf(fwd, sizeof(fwd), "127.0.0.1:%d", dns_port);
	if (flint_resolver_new(fwd, &r) == 0) {
		for (int i = 0; i < 50 && !up; i++) {
			struct sockaddr_storage *a = NULL;
			struct flint_problem *p = NULL;
			size_t n = 0;

			up = flint_resolver_addrs(r, "ready.example", &a, &n, &p) == 0;
			free(a);
			flint_problem_free(p);
			if (!up)
				cts_sleep_ms(100);
		}
		flint_resolver_free(r);
	}
	if (!up)
		cts_stop();
	return up;
}

static inline size_t cts_discard(char *p, size_t s, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return s * n;
}

/* POSTs json to the management path ("/set-txt"); returns the HTTP status or -1. */
static inline long cts_post(const char *path, const char *json)
{
	char url[128];
	long code = -1;
	CURL *c = curl_easy_init();

	if (!c)
		return -1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", cts_mgmt_port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(c, CURLOPT_PROXY, "");
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, cts_discard);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	return code;
}

#endif
