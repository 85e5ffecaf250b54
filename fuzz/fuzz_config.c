/* libFuzzer driver for the flintd configuration file (flintd.conf(5)): the
 * input is the file, read through the same --config path flintd takes (a
 * memfd, so nothing touches the disk), then checked like any configuration
 * (listen address, URLs, rates, profiles). Either it loads or it is refused;
 * whatever it set is freed. A refused file says why on stderr, so the CTest
 * run passes -close_fd_mask=2 (libFuzzer's and the sanitizers' reports still
 * reach the log). */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct flintd_config cfg;
	int fd = memfd_create("flintd.conf", 0);

	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	char *argv[] = {"flintd", "--config", path, NULL};
	int r = flintd_config_load(3, argv, &cfg);
	/* loaded (0), refused (< 0); 1 is only for --help and --version */
	if (r == 1)
		__builtin_trap();
	flintd_config_clear(&cfg);
	close(fd);
	return 0;
}
