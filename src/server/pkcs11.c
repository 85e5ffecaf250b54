/* PKCS#11 keys through the pkcs11 engine (pkcs11.h). OpenSSL 3 marks the
 * ENGINE interface deprecated; Debian 12 has no PKCS#11 provider, so this one
 * file uses it on purpose. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "pkcs11.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

#define PIN_MAX 256

struct flint_pkcs11 {
	ENGINE *engine; /* structural and functional reference */
};

/* The last OpenSSL error as text, or what when there is none. */
static const char *ssl_reason(const char *what)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r ? r : what;
}

/* The first line of path into pin (PIN_MAX bytes); the file must be the
 * user's alone. */
static int read_pin(const char *path, char *pin, char *err, size_t err_len)
{
	struct stat sb;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc = FLINT_EIO;

	if (fd < 0) {
		snprintf(err, err_len, "pkcs11-pin-file %s: %s", path, strerror(errno));
		return FLINT_EIO;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, err_len, "pkcs11-pin-file %s: not a regular file", path);
		goto out;
	}
	if (sb.st_mode & 077) {
		snprintf(err, err_len, "pkcs11-pin-file %s: readable by others (chmod 600 it)", path);
		rc = FLINT_EINVAL;
		goto out;
	}
	n = read(fd, pin, PIN_MAX - 1);
	if (n < 0) {
		snprintf(err, err_len, "pkcs11-pin-file %s: %s", path, strerror(errno));
		goto out;
	}
	pin[n] = '\0';
	pin[strcspn(pin, "\r\n")] = '\0';
	if (!pin[0]) {
		snprintf(err, err_len, "pkcs11-pin-file %s: empty", path);
		rc = FLINT_EINVAL;
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

int flint_pkcs11_open(const char *module, const char *pin_file, struct flint_pkcs11 **ret,
		      char *err, size_t err_len)
{
	struct flint_pkcs11 *p = calloc(1, sizeof(*p));
	char pin[PIN_MAX] = "";
	ENGINE *e = NULL;
	int rc = FLINT_ECRYPTO;

	if (!p)
		return FLINT_ENOMEM;
	if (pin_file && (rc = read_pin(pin_file, pin, err, err_len)) < 0)
		goto out;
	rc = FLINT_ECRYPTO;
	ERR_clear_error();
	if (!(e = ENGINE_by_id("pkcs11"))) {
		snprintf(err, err_len, "cannot load OpenSSL's pkcs11 engine (libengine-pkcs11-openssl): %s",
			 ssl_reason("not found"));
		goto out;
	}
	if (module && !ENGINE_ctrl_cmd_string(e, "MODULE_PATH", module, 0)) {
		snprintf(err, err_len, "pkcs11 engine: module %s: %s", module, ssl_reason("refused"));
		goto out;
	}
	if (pin[0] && !ENGINE_ctrl_cmd_string(e, "PIN", pin, 0)) {
		snprintf(err, err_len, "pkcs11 engine: cannot set the PIN");
		goto out;
	}
	if (!ENGINE_init(e)) {
		snprintf(err, err_len, "pkcs11 engine: cannot initialise %s: %s",
			 module ? module : "the default module", ssl_reason("failed"));
		goto out;
	}
	p->engine = e;
	e = NULL;
	*ret = p;
	p = NULL;
	rc = 0;
out:
	OPENSSL_cleanse(pin, sizeof(pin));
	ENGINE_free(e);
	flint_pkcs11_free(p);
	return rc;
}

int flint_pkcs11_private_key(struct flint_pkcs11 *p, const char *uri, EVP_PKEY **ret, char *err,
			     size_t err_len)
{
	EVP_PKEY *k;

	if (!p || !uri || strncmp(uri, "pkcs11:", 7) != 0) {
		snprintf(err, err_len, "%s: not a PKCS#11 URI (pkcs11:...)", uri ? uri : "(none)");
		return FLINT_EINVAL;
	}
	if (strstr(uri, "pin-value=") || strstr(uri, "pin-source=")) {
		snprintf(err, err_len, "the key's URI carries a PIN: put it in pkcs11-pin-file instead");
		return FLINT_EINVAL;
	}
	ERR_clear_error();
	k = ENGINE_load_private_key(p->engine, uri, NULL, NULL);
	if (!k) {
		snprintf(err, err_len, "%s: no such private key in the token, or the PIN is wrong: %s",
			 uri, ssl_reason("not found"));
		return FLINT_ENOTFOUND;
	}
	*ret = k;
	return 0;
}

void flint_pkcs11_free(struct flint_pkcs11 *p)
{
	if (!p)
		return;
	if (p->engine) {
		ENGINE_finish(p->engine);
		ENGINE_free(p->engine);
	}
	free(p);
}
