/* Used nonces in shared memory, for the SQLite store (RFC 8555 §6.5: each
 * nonce accepted once). Every nonce gets the next serial number of a counter
 * in a file mapped by every flintd process using that database on this
 * machine (which is all SQLite's WAL mode allows anyway); redeeming sets the
 * serial's bit in a window of the last 2^FLINT_NONCE_LEDGER_WINDOW_LOG2 serials with
 * one atomic operation: no store transaction, no lock, no system call.
 * A nonce older than the window is refused as stale (clients retry a
 * badNonce with the fresh nonce of the error response). The file starts
 * over, with the counter at a new random value, after a reboot: nonces
 * issued before it are refused, never accepted twice. */
#ifndef FLINTD_NONCE_LEDGER_H
#define FLINTD_NONCE_LEDGER_H

#include <stdint.h>

#define FLINT_NONCE_LEDGER_WINDOW_LOG2 26 /* 2^26 serials: 8 MiB of bits */

struct flint_nonce_ledger;

/* Maps the ledger at path (created 0600 when missing, started over when it
 * was written under another boot of this machine), shared by every process
 * that opens the same file. path NULL: private to this process (an
 * in-memory database). FLINT_EINVAL for a file that is not a ledger of this
 * version. */
int flint_nonce_ledger_open(const char *path, struct flint_nonce_ledger **ret);
/* The same with the boot identity and the window (2^window_log2 serials,
 * 6..32) given: tests reboot and slide the window. */
int flint_nonce_ledger_open_with(const char *path, const char *boot_id, unsigned window_log2,
				 struct flint_nonce_ledger **ret);
void flint_nonce_ledger_free(struct flint_nonce_ledger *l);

/* The serial number of a new nonce. */
uint64_t flint_nonce_ledger_issue(struct flint_nonce_ledger *l);

/* Records the use of serial: 0 the first time; FLINT_ECONFLICT when it was
 * used; FLINT_ENOTFOUND when it is older than the window; FLINT_EINVAL when
 * the ledger never issued it (it started over since). */
int flint_nonce_ledger_redeem(struct flint_nonce_ledger *l, uint64_t serial);

#endif
