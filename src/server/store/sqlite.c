/* The SQLite store backend (RFC 8555 §7.1 objects and §7.2 nonces): one
 * connection per database file and process, shared by every handle (event
 * loops, validation workers) one statement or transaction at a time; WAL for
 * sharing with other processes; migrations on user_version. */
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "store/sqlite.h"
#include "store/sqlite_account_cache.h"
#include "store/sqlite_checkpoint.h"
#include "store/sqlite_walbatch.h"
#include "store/store.h"
#include "store/store_param.h"

/* Schema migrations, applied in order; migration i moves user_version from i
 * to i+1. Never edit an entry once released: append a new one. */
static const char *const migrations[] = {
	/* 1: initial schema */
	"CREATE TABLE accounts ("
	" id TEXT PRIMARY KEY,"
	" jwk_json TEXT NOT NULL,"
	" thumbprint TEXT NOT NULL UNIQUE,"
	" contact_json TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" tos_agreed INTEGER NOT NULL,"
	" created INTEGER NOT NULL);"
	"CREATE TABLE authzs ("
	" id TEXT PRIMARY KEY,"
	" account_id TEXT NOT NULL REFERENCES accounts(id),"
	" ident_type TEXT NOT NULL,"
	" ident_value TEXT NOT NULL,"
	" wildcard INTEGER NOT NULL,"
	" status TEXT NOT NULL,"
	" expires INTEGER NOT NULL,"
	" created INTEGER NOT NULL);"
	"CREATE INDEX authzs_find ON authzs(account_id, ident_type, ident_value, wildcard, status,"
	" expires);"
	"CREATE TABLE challenges ("
	" id TEXT PRIMARY KEY,"
	" authz_id TEXT NOT NULL REFERENCES authzs(id),"
	" pos INTEGER NOT NULL,"
	" type TEXT NOT NULL,"
	" token TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" validated INTEGER NOT NULL DEFAULT 0,"
	" error_json TEXT);"
	"CREATE INDEX challenges_authz ON challenges(authz_id, pos);"
	"CREATE INDEX challenges_status ON challenges(status);"
	/* seq gives a creation order that survives deletes, for paging. */
	"CREATE TABLE orders ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" id TEXT NOT NULL UNIQUE,"
	" account_id TEXT NOT NULL REFERENCES accounts(id),"
	" status TEXT NOT NULL,"
	" expires INTEGER NOT NULL,"
	" not_before INTEGER NOT NULL DEFAULT 0,"
	" not_after INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL,"
	" identifiers_json TEXT NOT NULL,"
	" error_json TEXT,"
	" cert_id TEXT);"
	"CREATE INDEX orders_account ON orders(account_id, seq);"
	"CREATE TABLE order_authzs ("
	" order_id TEXT NOT NULL REFERENCES orders(id),"
	" pos INTEGER NOT NULL,"
	" authz_id TEXT NOT NULL REFERENCES authzs(id),"
	" PRIMARY KEY (order_id, pos)) WITHOUT ROWID;"
	"CREATE INDEX order_authzs_authz ON order_authzs(authz_id);"
	"CREATE TABLE certificates ("
	" id TEXT PRIMARY KEY,"
	" serial TEXT NOT NULL UNIQUE,"
	" account_id TEXT NOT NULL,"
	" order_id TEXT,"
	" der BLOB NOT NULL,"
	" chain_pem TEXT NOT NULL,"
	" not_before INTEGER NOT NULL,"
	" not_after INTEGER NOT NULL,"
	" revoked_at INTEGER NOT NULL DEFAULT 0,"
	" reason INTEGER NOT NULL DEFAULT 0,"
	" names_json TEXT NOT NULL);"
	"CREATE INDEX certificates_revoked ON certificates(not_after) WHERE revoked_at <> 0;"
	"CREATE TABLE nonces ("
	" value TEXT PRIMARY KEY,"
	" expires INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX nonces_expires ON nonces(expires);",
	/* 2: counting an account's pending authorizations (rate limit) */
	"CREATE INDEX authzs_pending ON authzs(account_id, status, expires);",
	/* 3: stateless nonces: remember used ones only; shared secrets */
	"DROP TABLE nonces;"
	"CREATE TABLE used_nonces ("
	" value TEXT PRIMARY KEY,"
	" expires INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX used_nonces_expires ON used_nonces(expires);"
	"CREATE TABLE secrets ("
	" name TEXT PRIMARY KEY,"
	" value BLOB NOT NULL) WITHOUT ROWID;",
	/* 4: profiles; ARI (RFC 9773): replacements and operator-set windows */
	"ALTER TABLE orders ADD COLUMN profile TEXT;"
	"ALTER TABLE orders ADD COLUMN replaces TEXT;"
	"ALTER TABLE certificates ADD COLUMN profile TEXT;"
	"ALTER TABLE certificates ADD COLUMN replaced_by TEXT;"
	"ALTER TABLE certificates ADD COLUMN ari_start INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE certificates ADD COLUMN ari_end INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE certificates ADD COLUMN ari_explanation TEXT;"
	"CREATE INDEX certificates_account ON certificates(account_id, not_after);",
	/* 5: external account binding (RFC 8555 §7.3.4): operator-made keys, each
	 * bound to at most one account; the binding JWS the account was made with */
	"CREATE TABLE eab_keys ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" kid TEXT NOT NULL UNIQUE,"
	" alg TEXT NOT NULL,"
	" hmac_key BLOB NOT NULL,"
	" created INTEGER NOT NULL,"
	" account_id TEXT UNIQUE REFERENCES accounts(id),"
	" used INTEGER NOT NULL DEFAULT 0);"
	"ALTER TABLE accounts ADD COLUMN eab_json TEXT;",
	/* 6: rate limits: where accounts came from, orders by time, certificates
	 * by registered domain (or IP address) */
	"ALTER TABLE accounts ADD COLUMN created_ip TEXT;"
	"CREATE INDEX accounts_ip ON accounts(created_ip, created) WHERE created_ip IS NOT NULL;"
	"CREATE INDEX orders_account_created ON orders(account_id, created);"
	"CREATE TABLE cert_domains ("
	" domain TEXT NOT NULL,"
	" cert_id TEXT NOT NULL,"
	" issued INTEGER NOT NULL,"
	" PRIMARY KEY (domain, cert_id)) WITHOUT ROWID;"
	"CREATE INDEX cert_domains_issued ON cert_domains(domain, issued);",
	/* 7: several nodes on one database: claims on work in processing (which
	 * node validates a challenge or finalizes an order, until when), the
	 * CSR of an order being finalized (so another node can finish it), and
	 * leases on scheduled jobs */
	"ALTER TABLE challenges ADD COLUMN claimed_by TEXT;"
	"ALTER TABLE challenges ADD COLUMN claim_until INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE orders ADD COLUMN csr BLOB;"
	"ALTER TABLE orders ADD COLUMN claimed_by TEXT;"
	"ALTER TABLE orders ADD COLUMN claim_until INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX orders_processing ON orders(claim_until) WHERE status = 'processing';"
	"CREATE TABLE leases ("
	" name TEXT PRIMARY KEY,"
	" holder TEXT NOT NULL,"
	" until INTEGER NOT NULL) WITHOUT ROWID;",
	/* 8: used nonces keyed by (expires, value): a nonce's expiry is part of
	 * the nonce, so uniqueness is the same, and new rows land at the end of
	 * the key instead of at random places (fewer pages written per use) */
	"CREATE TABLE used_nonces_by_expiry ("
	" expires INTEGER NOT NULL,"
	" value TEXT NOT NULL,"
	" PRIMARY KEY (expires, value)) WITHOUT ROWID;"
	"INSERT INTO used_nonces_by_expiry (expires, value) SELECT expires, value FROM used_nonces;"
	"DROP TABLE used_nonces;"
	"ALTER TABLE used_nonces_by_expiry RENAME TO used_nonces;",
	/* 9: only challenges in processing are indexed by state (what a node
	 * takes over when another stops): a challenge made, or one that is
	 * done, no longer writes an index page */
	("DROP INDEX challenges_status;"
	 "CREATE INDEX challenges_processing ON challenges(claim_until) WHERE status = 'processing';"),
	/* 10: a certificate's registered domains keyed by (domain, issued,
	 * cert_id), which the rate limit's count reads in order: one tree where
	 * the key (domain, cert_id) and an index on (domain, issued) were two
	 * (a page written per certificate, not two) */
	"CREATE TABLE cert_domains_by_issued ("
	" domain TEXT NOT NULL,"
	" issued INTEGER NOT NULL,"
	" cert_id TEXT NOT NULL,"
	" PRIMARY KEY (domain, issued, cert_id)) WITHOUT ROWID;"
	"INSERT INTO cert_domains_by_issued (domain, issued, cert_id)"
	" SELECT domain, issued, cert_id FROM cert_domains;"
	"DROP TABLE cert_domains;"
	"ALTER TABLE cert_domains_by_issued RENAME TO cert_domains;",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

#define ACCOUNT_COLS \
	"id, jwk_json, thumbprint, contact_json, status, tos_agreed, created, eab_json"
#define EAB_COLS "kid, alg, hmac_key, created, account_id, used"
#define AUTHZ_COLS "id, account_id, ident_type, ident_value, wildcard, status, expires, created"
#define CHALLENGE_COLS "id, authz_id, type, token, status, validated, error_json"
#define ORDER_COLS                                                                      \
	"id, account_id, status, expires, not_before, not_after, created, identifiers_json," \
	" error_json, cert_id, profile, replaces"
#define CERT_INSERT_COLS                                                                \
	"id, serial, account_id, order_id, der, chain_pem, not_before, not_after, revoked_at," \
	" reason, names_json, profile"
#define CERT_COLS CERT_INSERT_COLS ", replaced_by, ari_start, ari_end, ari_explanation"

enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_NONCE_USE,
	S_NONCE_PURGE,
	S_SECRET_PUT,
	S_SECRET_GET,
	S_ACCOUNT_INSERT,
	S_ACCOUNT_GET,
	S_ACCOUNT_BY_THUMBPRINT,
	S_ACCOUNT_UPDATE,
	S_ACCOUNT_EXISTS,
	S_AUTHZ_INSERT,
	S_CHALLENGE_INSERT,
	S_ORDER_INSERT,
	S_ORDER_AUTHZ_INSERT,
	S_ORDER_GET,
	S_ORDER_AUTHZ_IDS,
	S_ORDER_SET_STATUS,
	S_ORDER_EXISTS,
	S_ORDERS_BY_ACCOUNT,
	S_ORDER_SEQ,
	S_AUTHZ_GET,
	S_AUTHZ_CHALLENGES,
	S_AUTHZ_FIND_VALID,
	S_AUTHZ_COUNT_PENDING,
	S_AUTHZ_SET_STATUS,
	S_AUTHZ_EXISTS,
	S_CHALLENGE_GET,
	S_CHALLENGE_START,
	S_CHALLENGE_EXISTS,
	S_CHALLENGE_FINISH,
	S_CHALLENGE_FINISH_AUTHZ,
	S_CHALLENGES_CLAIM,
	S_ORDER_START_FINALIZE,
	S_ORDERS_CLAIM,
	S_ORDER_CSR,
	S_LEASE_ACQUIRE,
	S_CERT_INSERT,
	S_CERT_GET,
	S_CERT_BY_SERIAL,
	S_CERT_REVOKE,
	S_CERT_EXISTS,
	S_CERTS_REVOKED,
	S_CERT_CLAIM,
	S_CERTS_SET_ARI,
	S_EAB_INSERT,
	S_EAB_GET,
	S_EAB_LIST,
	S_EAB_REMOVE,
	S_EAB_CLAIM,
	S_EAB_EXISTS,
	S_ACCOUNT_SET_IP,
	S_COUNT_ORDERS,
	S_COUNT_CERT_DOMAIN,
	S_CERT_DOMAIN_INSERT,
	S_COUNT_FAILED_VALIDATIONS,
	S_COUNT_ACCOUNTS_IP,
	S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_NONCE_USE] = "INSERT INTO used_nonces (value, expires) VALUES (?1, ?2)",
	[S_NONCE_PURGE] = "DELETE FROM used_nonces WHERE expires <= ?1",
	[S_SECRET_PUT] = "INSERT OR IGNORE INTO secrets (name, value) VALUES (?1, ?2)",
	[S_SECRET_GET] = "SELECT value FROM secrets WHERE name = ?1",
	[S_ACCOUNT_INSERT] = "INSERT INTO accounts (" ACCOUNT_COLS ")"
			     " VALUES (?1, ?2, ?3, COALESCE(?4, '[]'), ?5, ?6, ?7, ?8)",
	[S_ACCOUNT_GET] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE id = ?1",
	[S_ACCOUNT_BY_THUMBPRINT] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE thumbprint = ?1",
	[S_ACCOUNT_UPDATE] = "UPDATE accounts SET jwk_json = ?2, thumbprint = ?3,"
			     " contact_json = COALESCE(?4, '[]'), status = ?5, tos_agreed = ?6"
			     " WHERE id = ?1 AND thumbprint = ?7 AND status = ?8",
	[S_ACCOUNT_EXISTS] = "SELECT 1 FROM accounts WHERE id = ?1",
	[S_ACCOUNT_SET_IP] = "UPDATE accounts SET created_ip = ?2 WHERE id = ?1",
	[S_COUNT_ORDERS] = "SELECT count(*), min(created) FROM orders WHERE account_id = ?1"
			   " AND created > ?2",
	[S_COUNT_CERT_DOMAIN] = "SELECT count(*), min(issued) FROM cert_domains WHERE domain = ?1"
				" AND issued > ?2",
	[S_CERT_DOMAIN_INSERT] = "INSERT OR IGNORE INTO cert_domains (domain, cert_id, issued)"
				 " VALUES (?1, ?2, ?3)",
	[S_COUNT_FAILED_VALIDATIONS] = "SELECT count(*), min(c.validated) FROM authzs a"
				       " JOIN challenges c ON c.authz_id = a.id"
				       " WHERE a.account_id = ?1 AND a.ident_type = ?2"
				       " AND a.ident_value = ?3 AND c.status = 'invalid'"
				       " AND c.validated > ?4",
	[S_COUNT_ACCOUNTS_IP] = "SELECT count(*), min(created) FROM accounts WHERE created_ip = ?1"
				" AND created > ?2",
	[S_AUTHZ_INSERT] = "INSERT INTO authzs (" AUTHZ_COLS ")"
			   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[S_CHALLENGE_INSERT] = "INSERT INTO challenges (id, authz_id, pos, type, token, status,"
			       " validated, error_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[S_ORDER_INSERT] = "INSERT INTO orders (" ORDER_COLS ")"
			   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[S_ORDER_AUTHZ_INSERT] = "INSERT INTO order_authzs (order_id, pos, authz_id)"
				 " VALUES (?1, ?2, ?3)",
	[S_ORDER_GET] = "SELECT " ORDER_COLS " FROM orders WHERE id = ?1",
	[S_ORDER_AUTHZ_IDS] = "SELECT authz_id FROM order_authzs WHERE order_id = ?1 ORDER BY pos",
	[S_ORDER_SET_STATUS] = "UPDATE orders SET status = ?3, error_json = COALESCE(?4, error_json),"
			       " cert_id = COALESCE(?5, cert_id) WHERE id = ?1 AND status = ?2",
	[S_ORDER_EXISTS] = "SELECT 1 FROM orders WHERE id = ?1",
	[S_ORDERS_BY_ACCOUNT] = "SELECT id FROM orders WHERE account_id = ?1 AND seq > ?2"
				" ORDER BY seq LIMIT ?3",
	[S_ORDER_SEQ] = "SELECT seq FROM orders WHERE id = ?1 AND account_id = ?2",
	[S_AUTHZ_GET] = "SELECT " AUTHZ_COLS " FROM authzs WHERE id = ?1",
	[S_AUTHZ_CHALLENGES] = "SELECT " CHALLENGE_COLS " FROM challenges WHERE authz_id = ?1"
			       " ORDER BY pos",
	[S_AUTHZ_COUNT_PENDING] = "SELECT count(*) FROM authzs WHERE account_id = ?1"
				  " AND status = 'pending' AND expires > ?2",
	[S_AUTHZ_FIND_VALID] = "SELECT " AUTHZ_COLS " FROM authzs WHERE account_id = ?1"
			       " AND ident_type = ?2 AND ident_value = ?3 AND wildcard = ?4"
			       " AND status = 'valid' AND expires > ?5"
			       " ORDER BY expires DESC, rowid DESC LIMIT 1",
	[S_AUTHZ_SET_STATUS] = "UPDATE authzs SET status = ?3 WHERE id = ?1"
			       " AND (?2 IS NULL OR status = ?2)",
	[S_AUTHZ_EXISTS] = "SELECT 1 FROM authzs WHERE id = ?1",
	[S_CHALLENGE_GET] = "SELECT " CHALLENGE_COLS " FROM challenges WHERE id = ?1",
	[S_CHALLENGE_START] = "UPDATE challenges SET status = 'processing', claimed_by = ?2,"
			      " claim_until = ?3 WHERE id = ?1"
			      " AND status = 'pending' AND (SELECT a.status FROM authzs a"
			      " WHERE a.id = challenges.authz_id) = 'pending'",
	[S_CHALLENGE_EXISTS] = "SELECT 1 FROM challenges WHERE id = ?1",
	[S_CHALLENGE_FINISH] = "UPDATE challenges SET status = ?2, validated = ?3, error_json = ?4"
			       " WHERE id = ?1 AND status = 'processing'",
	[S_CHALLENGE_FINISH_AUTHZ] = "UPDATE authzs SET status = ?2,"
				     " expires = CASE WHEN ?2 = 'valid' THEN ?3 ELSE expires END"
				     " WHERE id = (SELECT authz_id FROM challenges WHERE id = ?1)"
				     " AND status = 'pending'",
	/* the conditions again outside the subquery: what another node claimed
	 * between the two is not taken */
	[S_CHALLENGES_CLAIM] = "UPDATE challenges SET claimed_by = ?1, claim_until = ?3"
			       " WHERE id IN (SELECT id FROM challenges WHERE status = 'processing'"
			       " AND (claim_until <= ?2 OR (?4 AND claimed_by = ?1))"
			       " ORDER BY claim_until LIMIT ?5)"
			       " AND status = 'processing' AND (claim_until <= ?2 OR (?4 AND claimed_by = ?1))"
			       " RETURNING id",
	/* only a ready order: not expired, every authorization valid and unexpired */
	[S_ORDER_START_FINALIZE] = "UPDATE orders SET status = 'processing', csr = ?2,"
				   " claimed_by = ?3, claim_until = ?4 WHERE id = ?1 AND status = 'pending'"
				   " AND expires > ?5 AND NOT EXISTS (SELECT 1 FROM order_authzs oa"
				   " JOIN authzs a ON a.id = oa.authz_id WHERE oa.order_id = ?1"
				   " AND (a.status <> 'valid' OR a.expires <= ?5))",
	[S_ORDERS_CLAIM] = "UPDATE orders SET claimed_by = ?1, claim_until = ?3"
			   " WHERE id IN (SELECT id FROM orders WHERE status = 'processing'"
			   " AND (claim_until <= ?2 OR (?4 AND claimed_by = ?1))"
			   " ORDER BY claim_until LIMIT ?5)"
			   " AND status = 'processing' AND (claim_until <= ?2 OR (?4 AND claimed_by = ?1))"
			   " RETURNING id",
	[S_ORDER_CSR] = "SELECT csr FROM orders WHERE id = ?1 AND csr IS NOT NULL",
	/* taken when absent or expired; a live lease, even the caller's, is not */
	[S_LEASE_ACQUIRE] = "INSERT INTO leases (name, holder, until) VALUES (?1, ?2, ?4)"
			    " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
			    " until = excluded.until WHERE leases.until <= ?3",
	[S_CERT_INSERT] = "INSERT INTO certificates (" CERT_INSERT_COLS ")"
			  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[S_CERT_GET] = "SELECT " CERT_COLS " FROM certificates WHERE id = ?1",
	[S_CERT_BY_SERIAL] = "SELECT " CERT_COLS " FROM certificates WHERE serial = ?1",
	[S_CERT_REVOKE] = "UPDATE certificates SET revoked_at = ?2, reason = ?3"
			  " WHERE id = ?1 AND revoked_at = 0",
	[S_CERT_EXISTS] = "SELECT 1 FROM certificates WHERE id = ?1",
	[S_CERTS_REVOKED] = "SELECT " CERT_COLS " FROM certificates"
			    " WHERE revoked_at <> 0 AND not_after > ?1 ORDER BY revoked_at, rowid",
	[S_CERT_CLAIM] = "UPDATE certificates SET replaced_by = ?2 WHERE id = ?1"
			 " AND replaced_by IS ?3",
	[S_CERTS_SET_ARI] = "UPDATE certificates SET ari_start = ?2, ari_end = ?3,"
			    " ari_explanation = ?4 WHERE not_after > ?1"
			    " AND (?5 IS NULL OR serial = ?5) AND (?6 IS NULL OR account_id = ?6)",
	[S_EAB_INSERT] = "INSERT INTO eab_keys (" EAB_COLS ") VALUES (?1, ?2, ?3, ?4, NULL, 0)",
	[S_EAB_GET] = "SELECT " EAB_COLS " FROM eab_keys WHERE kid = ?1",
	[S_EAB_LIST] = "SELECT " EAB_COLS " FROM eab_keys ORDER BY seq",
	[S_EAB_REMOVE] = "DELETE FROM eab_keys WHERE kid = ?1",
	/* the one-use compare-and-set */
	[S_EAB_CLAIM] = "UPDATE eab_keys SET account_id = ?2, used = ?3"
			" WHERE kid = ?1 AND account_id IS NULL",
	[S_EAB_EXISTS] = "SELECT 1 FROM eab_keys WHERE kid = ?1",
};

/* The process's connection to one database file. Every handle opened on the
 * same path shares it: one page cache that stays valid across the process's
 * own commits (separate connections re-read each page another one changed),
 * one set of prepared statements, and no lock contention inside the process.
 * lock (recursive) is held from a statement's prepare to its done() and
 * across a transaction, so each handle's operation sees the connection alone;
 * statements last microseconds, and writes were serialised anyway (SQLite
 * lets one connection write at a time). In-memory databases are private to
 * their handle. */
struct sq_conn {
	struct sq_conn *next; /* in the registry; unused when private */
	char *path;           /* registry key; NULL when private */
	int users;            /* handles sharing it (registry_lock) */
	pthread_mutex_t lock;
	sqlite3 *db;
	sqlite3_stmt *stmt[S_COUNT]; /* prepared on first use, kept until close */
	struct flint_sq_checkpointer *checkpointer; /* NULL in memory */
	struct flint_sq_account_cache *accounts;    /* shared with every process on path */
	struct timespec busy_since;  /* when the current wait for another process's lock began */
};

struct sq_store {
	struct flint_store base; /* first: callers dispatch through base.ops */
	struct sq_conn *c;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sq_conn *registry;

#define BUSY_TIMEOUT_S 10

/* Waiting for another process's write lock: short sleeps (a write
 * transaction here lasts tens of microseconds; SQLite's own handler sleeps
 * 1, 2, 5, 10 ... ms, which is most of a request's latency under load),
 * for BUSY_TIMEOUT_S in all, then SQLITE_BUSY (FLINT_EIO). */
static int busy_wait(void *arg, int attempt)
{
	struct sq_conn *c = arg;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (attempt == 0)
		c->busy_since = now;
	else if (now.tv_sec - c->busy_since.tv_sec >= BUSY_TIMEOUT_S)
		return 0;
	/* 20 us, 40 us ... then 500 us between tries */
	struct timespec pause = {0, attempt < 25 ? 20000L * (attempt + 1) : 500000L};
	nanosleep(&pause, NULL);
	return 1;
}

static struct sq_store *sq(struct flint_store *st)
{
	return (struct sq_store *)st;
}

static int map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return FLINT_OK;
	case SQLITE_NOMEM:
		return FLINT_ENOMEM;
	case SQLITE_TOOBIG:
		return FLINT_ETOOBIG;
	case SQLITE_CONSTRAINT:
		switch (rc) {
		case SQLITE_CONSTRAINT_UNIQUE:
		case SQLITE_CONSTRAINT_PRIMARYKEY:
			return FLINT_ECONFLICT;
		case SQLITE_CONSTRAINT_FOREIGNKEY:
			return FLINT_ENOTFOUND; /* refers to an object that does not exist */
		default:
			return FLINT_EINVAL; /* NOT NULL and friends: a required field missing */
		}
	default:
		return FLINT_EIO;
	}
}

/* A cached statement, reset and unbound, with the connection held until
 * done(q, it). Callers reset it again when done so that no read transaction
 * stays open between calls. */
static int get_stmt(struct sq_store *q, enum stmt_id id, sqlite3_stmt **ret)
{
	struct sq_conn *c = q->c;
	sqlite3_stmt *s;
	int rc;

	pthread_mutex_lock(&c->lock);
	s = c->stmt[id];
	if (!s) {
		rc = sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s,
					NULL);
		if (rc != SQLITE_OK) {
			pthread_mutex_unlock(&c->lock);
			return map_rc(rc);
		}
		c->stmt[id] = s;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	*ret = s;
	return 0;
}

/* Ends the use of a statement from get_stmt (NULL: none was got). */
static void done(struct sq_store *q, sqlite3_stmt *s)
{
	if (!s)
		return;
	sqlite3_reset(s);
	pthread_mutex_unlock(&q->c->lock);
}

/* Reads the current row of s into *ret, whose type each reader names, and
 * leaves nothing to free on failure. q serves readers that load more rows. */
typedef int (*row_reader)(struct sq_store *q, sqlite3_stmt *s, void *ret);

/* What select_all collects: array elements of size bytes, filled by read and
 * emptied again by clear. */
struct row_type {
	size_t size;
	row_reader read;
	void (*clear)(void *elem);
};

/* The cached statement id with p[0..n) bound; on failure it is reset again. */
static int prepare(struct sq_store *q, enum stmt_id id, const struct param *p, size_t n,
		   sqlite3_stmt **ret)
{
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK, err;

	err = get_stmt(q, id, &s);
	if (err < 0)
		return err;
	for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
		int at = (int)i + 1;

		switch (p[i].kind) {
		case P_TEXT:
			rc = sqlite3_bind_text(s, at, p[i].text, -1, SQLITE_STATIC);
			break;
		case P_I64:
			rc = sqlite3_bind_int64(s, at, p[i].i64);
			break;
		case P_BLOB:
			rc = p[i].blob ? sqlite3_bind_blob64(s, at, p[i].blob, p[i].len, SQLITE_STATIC)
				       : sqlite3_bind_null(s, at);
			break;
		}
	}
	if (rc != SQLITE_OK) {
		done(q, s);
		return map_rc(rc);
	}
	*ret = s;
	return 0;
}

/* Steps a statement that returns no rows. */
static int step_done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : map_rc(rc);
}

/* Steps to the first row: 0 with a row, FLINT_ENOTFOUND without. */
static int step_row(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? FLINT_ENOTFOUND : map_rc(rc);
}

/* Runs a statement that returns no rows; *ret_changes (when not NULL): the
 * rows it inserted, updated or deleted. */
static int exec_changes(struct sq_store *q, enum stmt_id id, const struct param *p, size_t n,
			int64_t *ret_changes)
{
	sqlite3_stmt *s = NULL;
	int err;

	err = prepare(q, id, p, n, &s);
	if (err == 0)
		err = step_done(s);
	if (err == 0 && ret_changes)
		*ret_changes = sqlite3_changes64(q->c->db);
	done(q, s);
	return err;
}

static int exec(struct sq_store *q, enum stmt_id id, const struct param *p, size_t n)
{
	return exec_changes(q, id, p, n, NULL);
}

/* Steps to the first row and leaves *ret there, for the caller to read and
 * done(); FLINT_ENOTFOUND without a row. */
static int select_row(struct sq_store *q, enum stmt_id id, const struct param *p, size_t n,
		      sqlite3_stmt **ret)
{
	sqlite3_stmt *s = NULL;
	int err;

	err = prepare(q, id, p, n, &s);
	if (err == 0)
		err = step_row(s);
	if (err < 0) {
		done(q, s);
		return err;
	}
	*ret = s;
	return 0;
}

/* Reads the first row into ret; FLINT_ENOTFOUND without one. The statement
 * stays active while read runs, so whatever read loads with further
 * statements comes from the same snapshot. */
static int select_one(struct sq_store *q, enum stmt_id id, const struct param *p, size_t n,
		      row_reader read, void *ret)
{
	sqlite3_stmt *s = NULL;
	int err;

	err = select_row(q, id, p, n, &s);
	if (err < 0)
		return err;
	err = read(q, s, ret);
	done(q, s);
	return err;
}

/* Reads every row into a growing array of rt elements, NULL when there are none. */
static int select_all(struct sq_store *q, enum stmt_id id, const struct param *p, size_t np,
		      const struct row_type *rt, void **ret, size_t *ret_n)
{
	sqlite3_stmt *s = NULL;
	unsigned char *rows = NULL, *grown;
	size_t n = 0, cap = 0;
	int rc, err;

	err = prepare(q, id, p, np, &s);
	if (err < 0)
		return err;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			grown = realloc(rows, cap * rt->size);
			if (!grown) {
				err = FLINT_ENOMEM;
				goto out;
			}
			rows = grown;
		}
		err = rt->read(q, s, rows + n * rt->size);
		if (err < 0)
			goto out;
		n++;
	}
	if (rc != SQLITE_DONE) {
		err = map_rc(rc);
		goto out;
	}
	*ret = rows;
	*ret_n = n;
	rows = NULL;
	n = 0;
out:
	done(q, s);
	for (size_t i = 0; i < n; i++)
		rt->clear(rows + i * rt->size);
	free(rows);
	return err;
}

#define NO_PROBE S_COUNT

/* Runs a guarded UPDATE or DELETE of the row keyed by ?1 = key. When it
 * changed nothing: FLINT_ENOTFOUND, or with a probe statement for that key,
 * FLINT_ENOTFOUND when the row is missing and FLINT_ECONFLICT when it exists
 * but failed the precondition. */
static int update(struct sq_store *q, enum stmt_id id, const struct param *p, size_t n,
		  enum stmt_id probe, const char *key)
{
	sqlite3_stmt *s = NULL, *row = NULL;
	int err;

	err = prepare(q, id, p, n, &s);
	if (err == 0)
		err = step_done(s);
	if (err == 0 && sqlite3_changes(q->c->db) == 0) {
		err = probe == NO_PROBE ? FLINT_ENOTFOUND
					: select_row(q, probe, ARGS(TEXT(key)), &row);
		if (err == 0)
			err = FLINT_ECONFLICT; /* the row is there: the precondition failed */
		done(q, row);
	}
	done(q, s);
	return err;
}

/* A write transaction: the connection, then SQLite's write lock (BEGIN
 * IMMEDIATE), both held until tx_end. */
static int tx_begin(struct sq_store *q)
{
	struct sq_conn *c = q->c;
	int err;

	pthread_mutex_lock(&c->lock);
	err = exec(q, S_BEGIN, NO_ARGS);
	if (err < 0)
		pthread_mutex_unlock(&c->lock);
	return err;
}

/* Commits, or rolls back when err (or the commit) failed; returns the outcome. */
static int tx_end(struct sq_store *q, int err)
{
	struct sq_conn *c = q->c;

	if (err == 0)
		err = exec(q, S_COMMIT, NO_ARGS);
	if (err < 0 && !sqlite3_get_autocommit(c->db))
		(void)exec(q, S_ROLLBACK, NO_ARGS);
	pthread_mutex_unlock(&c->lock);
	return err;
}

static int col_str(sqlite3_stmt *s, int i, char **ret)
{
	const unsigned char *t;
	char *d;

	if (sqlite3_column_type(s, i) == SQLITE_NULL) {
		*ret = NULL;
		return 0;
	}
	t = sqlite3_column_text(s, i);
	if (!t)
		return FLINT_ENOMEM;
	d = strdup((const char *)t);
	if (!d)
		return FLINT_ENOMEM;
	*ret = d;
	return 0;
}

/* char *: column 0, which must not be NULL. */
static int read_id(struct sq_store *q, sqlite3_stmt *s, void *ret)
{
	char *id = NULL;
	int err;

	(void)q;
	err = col_str(s, 0, &id);
	if (err < 0)
		return err;
	if (!id)
		return FLINT_EIO;
	*(char **)ret = id;
	return 0;
}

static void clear_id(void *elem)
{
	free(*(char **)elem);
}

static const struct row_type id_rows = { sizeof(char *), read_id, clear_id };

/* struct flint_challenge, filled in place. */
static int read_challenge(struct sq_store *q, sqlite3_stmt *s, void *ret)
{
	struct flint_challenge *c = ret;
	int err;

	(void)q;
	memset(c, 0, sizeof(*c));
	if ((err = col_str(s, 0, &c->id)) < 0 || (err = col_str(s, 1, &c->authz_id)) < 0 ||
	    (err = col_str(s, 2, &c->type)) < 0 || (err = col_str(s, 3, &c->token)) < 0 ||
	    (err = col_str(s, 4, &c->status)) < 0 || (err = col_str(s, 6, &c->error_json)) < 0) {
		flint_challenge_clear(c);
		return err;
	}
	c->validated = sqlite3_column_int64(s, 5);
	return 0;
}

static void clear_challenge(void *elem)
{
	flint_challenge_clear(elem);
}

static const struct row_type challenge_rows = { sizeof(struct flint_challenge), read_challenge,
						clear_challenge };

/* struct flint_challenge *. */
static int read_challenge_new(struct sq_store *q, sqlite3_stmt *s, void *ret)
{
	struct flint_challenge *c;
	int err;

	c = calloc(1, sizeof(*c));
	if (!c)
		return FLINT_ENOMEM;
	err = read_challenge(q, s, c);
	if (err < 0) {
		free(c); /* read_challenge cleared it */
		return err;
	}
	*(struct flint_challenge **)ret = c;
	return 0;
}

/* struct flint_account *. */
static int read_account(struct sq_store *q, sqlite3_stmt *s, void *ret)
{
	struct flint_account *a;
	int err;

	(void)q;
	a = calloc(1, sizeof(*a));
	if (!a)
		return FLINT_ENOMEM;
	if ((err = col_str(s, 0, &a->id)) < 0 || (err = col_str(s, 1, &a->jwk_json)) < 0 ||
	    (err = col_str(s, 2, &a->thumbprint)) < 0 ||
	    (err = col_str(s, 3, &a->contact_json)) < 0 || (err = col_str(s, 4, &a->status)) < 0)
		goto out;
	a->tos_agreed = sqlite3_column_int64(s, 5) != 0;
	a->created = sqlite3_column_int64(s, 6);
	if ((err = col_str(s, 7, &a->eab_json)) < 0)
		goto out;
	*(struct flint_account **)ret = a;
	a = NULL;
out:
	flint_account_free(a);
	return err;
}

/* struct flint_authz *, without its challenges. */
static int read_authz_bare(struct sq_store *q, sqlite3_stmt *s, void *ret)
{
	struct flint_authz *a;
	int err;

	(void)q;
	a = calloc(1, sizeof(*a));
	if (!a)
		return FLINT_ENOMEM;
	if ((err = col_str(s, 0, &a->id)) < 0 || (err = col_str(s, 1, &a->account_id)) < 0 ||
	    (err = col_str(s, 2, &a->ident_type)) < 0 ||
	    (err = col_str(s, 3, &a->ident_value)) < 0 || (err = col_str(s, 5, &a->status)) < 0) {
		flint_authz_free(a);
		return err;
	}
	a->wildcard = sqlite3_column_int64(s, 4) != 0;
	a->expires = sqlite3_column_int64(s, 6);
	a->created = sqlite3_column_int64(s, 7);
	*(struct flint_authz **)ret = a;
	return 0;
}

/* struct flint_authz *, with its challenges. */
static int read_authz(struct sq_store *q, sqlite3_stmt *s, void *ret)
{
	struct flint_authz *a = NULL;
	void *cs;
	int err = read_authz_bare(q, s, &a);

	if (err < 0)
		return err;
	err = select_all(q, S_AUTHZ_CHALLENGES, ARGS(TEXT(a->id)), &challenge_rows, &cs,
			 &a->n_challenges);
	if (err < 0)
		goto out;
	a->challenges = cs;
	*(struct flint_authz **)ret = a;
	a = NULL;
out:
	flint_authz_free(a);
	return err;
}

/* A challenge with its authorization (and the account): read while the
 * challenge's statement is active, so the rows come from one read
 * transaction. */
struct challenge_rows {
	bool with_account;
	struct flint_challenge *c;
	struct flint_authz *a;
	struct flint_account *acct;
};

static int read_challenge_rows(struct sq_store *q, sqlite3_stmt *s, void *ret)
{
	struct challenge_rows *v = ret;
	int err = read_challenge_new(q, s, &v->c);

	if (err == 0)
		err = select_one(q, S_AUTHZ_GET, ARGS(TEXT(v->c->authz_id)), read_authz_bare, &v->a);
	if (err == 0 && v->with_account)
		err = select_one(q, S_ACCOUNT_GET, ARGS(TEXT(v->a->account_id)), read_account,
				 &v->acct);
	return err;
}

/* struct flint_order *, with its authz ids. */
static int read_order(struct sq_store *q, sqlite3_stmt *s, void *ret)
{
	struct flint_order *o;
	void *ids;
	int err;

	o = calloc(1, sizeof(*o));
	if (!o)
		return FLINT_ENOMEM;
	if ((err = col_str(s, 0, &o->id)) < 0 || (err = col_str(s, 1, &o->account_id)) < 0 ||
	    (err = col_str(s, 2, &o->status)) < 0 ||
	    (err = col_str(s, 7, &o->identifiers_json)) < 0 ||
	    (err = col_str(s, 8, &o->error_json)) < 0 || (err = col_str(s, 9, &o->cert_id)) < 0 ||
	    (err = col_str(s, 10, &o->profile)) < 0 || (err = col_str(s, 11, &o->replaces)) < 0)
		goto out;
	o->expires = sqlite3_column_int64(s, 3);
	o->not_before = sqlite3_column_int64(s, 4);
	o->not_after = sqlite3_column_int64(s, 5);
	o->created = sqlite3_column_int64(s, 6);
	err = select_all(q, S_ORDER_AUTHZ_IDS, ARGS(TEXT(o->id)), &id_rows, &ids, &o->n_authz);
	if (err < 0)
		goto out;
	o->authz_ids = ids;
	*(struct flint_order **)ret = o;
	o = NULL;
out:
	flint_order_free(o);
	return err;
}

/* struct flint_cert *. */
static int read_cert(struct sq_store *q, sqlite3_stmt *s, void *ret)
{
	struct flint_cert *c;
	const void *der;
	int err, n;

	(void)q;
	c = calloc(1, sizeof(*c));
	if (!c)
		return FLINT_ENOMEM;
	if ((err = col_str(s, 0, &c->id)) < 0 || (err = col_str(s, 1, &c->serial)) < 0 ||
	    (err = col_str(s, 2, &c->account_id)) < 0 || (err = col_str(s, 3, &c->order_id)) < 0 ||
	    (err = col_str(s, 5, &c->chain_pem)) < 0 || (err = col_str(s, 10, &c->names_json)) < 0 ||
	    (err = col_str(s, 11, &c->profile)) < 0 || (err = col_str(s, 12, &c->replaced_by)) < 0 ||
	    (err = col_str(s, 15, &c->ari_explanation)) < 0)
		goto out;
	der = sqlite3_column_blob(s, 4);
	n = sqlite3_column_bytes(s, 4);
	if (n > 0) {
		if (!der) {
			err = FLINT_ENOMEM;
			goto out;
		}
		c->der = malloc((size_t)n);
		if (!c->der) {
			err = FLINT_ENOMEM;
			goto out;
		}
		memcpy(c->der, der, (size_t)n);
		c->der_len = (size_t)n;
	}
	c->not_before = sqlite3_column_int64(s, 6);
	c->not_after = sqlite3_column_int64(s, 7);
	c->revoked_at = sqlite3_column_int64(s, 8);
	c->reason = (int)sqlite3_column_int64(s, 9);
	c->ari_start = sqlite3_column_int64(s, 13);
	c->ari_end = sqlite3_column_int64(s, 14);
	*(struct flint_cert **)ret = c;
	c = NULL;
out:
	flint_cert_free(c);
	return err;
}

static void clear_cert(void *elem)
{
	flint_cert_free(*(struct flint_cert **)elem);
}

static const struct row_type cert_rows = { sizeof(struct flint_cert *), read_cert, clear_cert };

static void conn_free(struct sq_conn *c)
{
	if (!c)
		return;
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(c->stmt[i]);
	sqlite3_close_v2(c->db);
	flint_sq_checkpointer_stop(c->checkpointer);
	flint_sq_account_cache_free(c->accounts);
	pthread_mutex_destroy(&c->lock);
	free(c->path);
	free(c);
}

static void sq_close(struct flint_store *st)
{
	struct sq_store *q = sq(st);
	struct sq_conn **p, *c;

	if (!q)
		return;
	c = q->c;
	free(q);
	if (!c)
		return;
	if (c->path) {
		pthread_mutex_lock(&registry_lock);
		if (--c->users > 0) {
			pthread_mutex_unlock(&registry_lock);
			return;
		}
		for (p = &registry; *p && *p != c; p = &(*p)->next)
			;
		if (*p)
			*p = c->next;
		pthread_mutex_unlock(&registry_lock);
	}
	conn_free(c);
}

static int user_version(sqlite3 *db, int *ret)
{
	sqlite3_stmt *s = NULL;
	int rc, err;

	rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL);
	if (rc != SQLITE_OK) {
		err = map_rc(rc);
		goto out;
	}
	err = step_row(s);
	if (err < 0) {
		if (err == FLINT_ENOTFOUND)
			err = FLINT_EIO;
		goto out;
	}
	*ret = sqlite3_column_int(s, 0);
out:
	sqlite3_finalize(s);
	return err;
}

/* Brings the schema up to date. BEGIN IMMEDIATE serialises concurrent first
 * opens: the second opener waits, then finds the schema current. */
static int migrate(struct sq_store *q)
{
	sqlite3 *db = q->c->db;
	char pragma[64];
	int version = 0, err;

	err = tx_begin(q);
	if (err < 0)
		return err;
	err = user_version(db, &version);
	if (err < 0)
		goto out;
	if (version > N_MIGRATIONS) {
		err = FLINT_EUNSUPPORTED; /* written by a newer flintd */
		goto out;
	}
	for (int v = version; v < N_MIGRATIONS; v++) {
		err = map_rc(sqlite3_exec(db, migrations[v], NULL, NULL, NULL));
		if (err < 0)
			goto out;
	}
	if (version < N_MIGRATIONS) {
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", N_MIGRATIONS);
		err = map_rc(sqlite3_exec(db, pragma, NULL, NULL, NULL));
	}
out:
	return tx_end(q, err);
}

/* A database that lives in this connection only. */
static bool in_memory(const char *dsn)
{
	return strcmp(dsn, ":memory:") == 0 || strstr(dsn, "mode=memory") != NULL;
}

int flint_store_sqlite_sidecar(const char *path, const char *suffix, char **ret)
{
	char *s = NULL;

	if (!path || !suffix || !ret)
		return FLINT_EINVAL;
	if (!in_memory(path)) {
		size_t n = strlen(path), m = strlen(suffix);

		if (!(s = malloc(n + m + 1)))
			return FLINT_ENOMEM;
		memcpy(s, path, n);
		memcpy(s + n, suffix, m + 1);
	}
	*ret = s;
	return 0;
}

/* Opens, configures and migrates a connection of q to dsn into q->c; shared
 * (registered under dsn by the caller) unless in memory. */
static int conn_open(struct sq_store *q, const char *dsn)
{
	struct sq_conn *c = calloc(1, sizeof(*c));
	pthread_mutexattr_t attr;
	char *gen_path = NULL;
	int rc, err;

	if (!c)
		return FLINT_ENOMEM;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&c->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	c->users = 1;
	q->c = c;
	if (!in_memory(dsn) && !(c->path = strdup(dsn))) {
		err = FLINT_ENOMEM;
		goto out;
	}
	/* a commit's WAL frames in one write instead of two per page */
	rc = sqlite3_open_v2(dsn, &c->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			     flint_sq_walbatch_vfs());
	if (rc != SQLITE_OK) {
		err = c->db ? map_rc(rc) : FLINT_ENOMEM;
		goto out;
	}
	sqlite3_extended_result_codes(c->db, 1);
	/* The busy handler comes first: switching to WAL itself may have to wait. */
	rc = sqlite3_busy_handler(c->db, busy_wait, c);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(c->db,
				  "PRAGMA journal_mode = WAL;"
				  "PRAGMA synchronous = NORMAL;"
				  "PRAGMA journal_size_limit = 67108864;"
				  /* a transaction's frames reach the WAL only at its
				   * commit, in one call that ends with the commit frame:
				   * what the WAL-batching VFS gathers (sqlite_walbatch.h) */
				  "PRAGMA cache_spill = OFF;"
				  "PRAGMA foreign_keys = ON;",
				  NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		err = map_rc(rc);
		goto out;
	}
	err = c->path ? flint_sq_checkpointer_start(dsn, c->db, &c->checkpointer) : 0;
	if (err == 0)
		err = flint_store_sqlite_sidecar(dsn, FLINT_STORE_SQLITE_GEN_SUFFIX, &gen_path);
	if (err == 0 && (err = flint_sq_account_cache_open(gen_path, &c->accounts)) == FLINT_EINVAL)
		fprintf(stderr,
			"flintd: %s is not an account generation file of this flintd version; "
			"it was left as it is: move it away\n",
			gen_path);
	if (err == 0)
		err = migrate(q);
out:
	free(gen_path);
	if (err < 0) {
		q->c = NULL;
		conn_free(c);
	}
	return err;
}

static int sq_open(const char *dsn, struct flint_store **ret)
{
	struct sq_store *q = NULL;
	struct sq_conn *c = NULL;
	int err = 0;

	if (!dsn || !*dsn || !ret)
		return FLINT_EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return FLINT_ENOMEM;
	q->base.ops = &flint_store_sqlite;
	if (in_memory(dsn)) {
		err = conn_open(q, dsn);
	} else {
		pthread_mutex_lock(&registry_lock);
		for (c = registry; c && strcmp(c->path, dsn) != 0; c = c->next)
			;
		if (c) {
			c->users++;
			q->c = c;
		} else if ((err = conn_open(q, dsn)) == 0) {
			q->c->next = registry;
			registry = q->c;
		}
		pthread_mutex_unlock(&registry_lock);
	}
	if (err < 0) {
		free(q);
		return err;
	}
	*ret = &q->base;
	return 0;
}

static int sq_nonce_use(struct flint_store *st, const char *nonce, int64_t expires)
{
	return exec(sq(st), S_NONCE_USE, ARGS(TEXT(nonce), I64(expires)));
}

static int sq_nonce_use_account_get(struct flint_store *st, const char *nonce, int64_t expires,
				    const char *account_id, struct flint_account **ret)
{
	struct sq_store *q = sq(st);
	struct flint_account *a = NULL;
	int err, found;

	if (!account_id || !ret)
		return FLINT_EINVAL;
	err = tx_begin(q);
	if (err < 0)
		return err;
	err = exec(q, S_NONCE_USE, ARGS(TEXT(nonce), I64(expires)));
	if (err < 0)
		return tx_end(q, err);
	found = select_one(q, S_ACCOUNT_GET, ARGS(TEXT(account_id)), read_account, &a);
	err = tx_end(q, found == FLINT_ENOTFOUND ? 0 : found);
	if (err < 0) {
		flint_account_free(a);
		return err;
	}
	*ret = a;
	return 0;
}

static int sq_secret(struct flint_store *st, const char *name, const unsigned char *candidate,
		     size_t len, unsigned char *ret)
{
	struct sq_store *q = sq(st);
	sqlite3_stmt *s = NULL;
	int err = exec(q, S_SECRET_PUT, ARGS(TEXT(name), BLOB(candidate, len)));
	if (err == 0)
		err = select_row(q, S_SECRET_GET, ARGS(TEXT(name)), &s);
	if (err == 0) {
		if ((size_t)sqlite3_column_bytes(s, 0) != len)
			err = FLINT_EINVAL; /* stored with another length */
		else
			memcpy(ret, sqlite3_column_blob(s, 0), len);
	}
	done(q, s);
	return err;
}

static int sq_nonce_purge(struct flint_store *st, int64_t now)
{
	return exec(sq(st), S_NONCE_PURGE, ARGS(I64(now)));
}

static int sq_account_insert(struct flint_store *st, const struct flint_account *acct)
{
	int err;

	if (!acct)
		return FLINT_EINVAL;
	err = exec(sq(st), S_ACCOUNT_INSERT,
		   ARGS(TEXT(acct->id), TEXT(acct->jwk_json), TEXT(acct->thumbprint),
			TEXT(acct->contact_json), TEXT(acct->status), I64(acct->tos_agreed),
			I64(acct->created), TEXT(acct->eab_json)));
	if (err == 0 && acct->created_ip)
		err = exec(sq(st), S_ACCOUNT_SET_IP, ARGS(TEXT(acct->id), TEXT(acct->created_ip)));
	return err;
}

/* The account first (a taken thumbprint is ECONFLICT), then the key's
 * compare-and-set, which the foreign key lets name the new account. */
static int sq_account_insert_eab(struct flint_store *st, const struct flint_account *acct,
				 const char *eab_kid)
{
	struct sq_store *q = sq(st);
	int err;

	if (!acct || !eab_kid)
		return FLINT_EINVAL;
	err = tx_begin(q);
	if (err < 0)
		return err;
	err = sq_account_insert(st, acct);
	if (err == 0)
		err = update(q, S_EAB_CLAIM, ARGS(TEXT(eab_kid), TEXT(acct->id), I64(acct->created)),
			     S_EAB_EXISTS, eab_kid);
	return tx_end(q, err);
}

/* struct flint_eab_key *. */
static int read_eab(struct sq_store *q, sqlite3_stmt *s, void *ret)
{
	struct flint_eab_key *k;
	const void *key;
	int err, n;

	(void)q;
	k = calloc(1, sizeof(*k));
	if (!k)
		return FLINT_ENOMEM;
	if ((err = col_str(s, 0, &k->kid)) < 0 || (err = col_str(s, 1, &k->alg)) < 0 ||
	    (err = col_str(s, 4, &k->account_id)) < 0)
		goto out;
	key = sqlite3_column_blob(s, 2);
	n = sqlite3_column_bytes(s, 2);
	err = FLINT_EIO;
	if (!k->kid || !k->alg || n <= 0 || !key)
		goto out;
	err = FLINT_ENOMEM;
	if (!(k->hmac_key = malloc((size_t)n)))
		goto out;
	memcpy(k->hmac_key, key, (size_t)n);
	k->hmac_key_len = (size_t)n;
	k->created = sqlite3_column_int64(s, 3);
	k->used = sqlite3_column_int64(s, 5);
	*(struct flint_eab_key **)ret = k;
	k = NULL;
	err = 0;
out:
	flint_eab_key_free(k);
	return err;
}

static void clear_eab(void *elem)
{
	flint_eab_key_free(*(struct flint_eab_key **)elem);
}

static const struct row_type eab_rows = { sizeof(struct flint_eab_key *), read_eab, clear_eab };

static int sq_eab_insert(struct flint_store *st, const struct flint_eab_key *key)
{
	if (!key || !key->kid || !key->alg || !key->hmac_key || !key->hmac_key_len)
		return FLINT_EINVAL;
	return exec(sq(st), S_EAB_INSERT,
		    ARGS(TEXT(key->kid), TEXT(key->alg), BLOB(key->hmac_key, key->hmac_key_len),
			 I64(key->created)));
}

static int sq_eab_get(struct flint_store *st, const char *kid, struct flint_eab_key **ret)
{
	if (!kid || !ret)
		return FLINT_EINVAL;
	return select_one(sq(st), S_EAB_GET, ARGS(TEXT(kid)), read_eab, ret);
}

static int sq_eab_list(struct flint_store *st, struct flint_eab_key ***ret, size_t *ret_n)
{
	void *keys;
	int err;

	if (!ret || !ret_n)
		return FLINT_EINVAL;
	err = select_all(sq(st), S_EAB_LIST, NO_ARGS, &eab_rows, &keys, ret_n);
	if (err == 0)
		*ret = keys;
	return err;
}

static int sq_eab_remove(struct flint_store *st, const char *kid)
{
	if (!kid)
		return FLINT_EINVAL;
	return update(sq(st), S_EAB_REMOVE, ARGS(TEXT(kid)), NO_PROBE, kid);
}

static int64_t monotonic_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec;
}

/* From the process's account cache while no process changed an account
 * (sqlite_account_cache.h); otherwise read, and kept. */
static int sq_account_get(struct flint_store *st, const char *id, struct flint_account **ret)
{
	struct sq_conn *c = sq(st)->c;
	int64_t now = monotonic_s();
	uint64_t generation;
	int err;

	if (!id || !ret)
		return FLINT_EINVAL;
	err = flint_sq_account_cache_get(c->accounts, id, now, ret);
	if (err != FLINT_ENOTFOUND)
		return err;
	generation = flint_sq_account_cache_generation(c->accounts); /* before the read */
	err = select_one(sq(st), S_ACCOUNT_GET, ARGS(TEXT(id)), read_account, ret);
	if (err == 0)
		flint_sq_account_cache_put(c->accounts, *ret, generation, now);
	return err;
}

static int sq_account_by_thumbprint(struct flint_store *st, const char *thumbprint,
				    struct flint_account **ret)
{
	return select_one(sq(st), S_ACCOUNT_BY_THUMBPRINT, ARGS(TEXT(thumbprint)), read_account,
			  ret);
}

/* One UPDATE statement, atomic on its own; the unique index on thumbprint
 * turns a key change onto another account's key into FLINT_ECONFLICT. */
static int sq_account_update(struct flint_store *st, const struct flint_account *acct,
			     const struct flint_account *expect)
{
	int err;

	if (!acct || !expect)
		return FLINT_EINVAL;
	err = update(sq(st), S_ACCOUNT_UPDATE,
		     ARGS(TEXT(acct->id), TEXT(acct->jwk_json), TEXT(acct->thumbprint),
			  TEXT(acct->contact_json), TEXT(acct->status), I64(acct->tos_agreed),
			  TEXT(expect->thumbprint), TEXT(expect->status)),
		     S_ACCOUNT_EXISTS, acct->id);
	/* committed (a statement of its own): every process's cached accounts
	 * are stale now */
	flint_sq_account_cache_bump(sq(st)->c->accounts);
	return err;
}

static int insert_authz(struct sq_store *q, const struct flint_authz *a)
{
	int err;

	err = exec(q, S_AUTHZ_INSERT,
		   ARGS(TEXT(a->id), TEXT(a->account_id), TEXT(a->ident_type),
			TEXT(a->ident_value), I64(a->wildcard), TEXT(a->status), I64(a->expires),
			I64(a->created)));
	for (size_t i = 0; i < a->n_challenges && err == 0; i++) {
		const struct flint_challenge *c = &a->challenges[i];

		/* The challenges belong to this authz whatever c->authz_id says. */
		err = exec(q, S_CHALLENGE_INSERT,
			   ARGS(TEXT(c->id), TEXT(a->id), I64((int64_t)i), TEXT(c->type),
				TEXT(c->token), TEXT(c->status ? c->status : "pending"),
				I64(c->validated), TEXT(c->error_json)));
	}
	return err;
}

static int sq_authz_insert(struct flint_store *st, const struct flint_authz *authz)
{
	struct sq_store *q = sq(st);
	int err;

	if (!authz || (authz->n_challenges && !authz->challenges))
		return FLINT_EINVAL;
	err = tx_begin(q);
	if (err < 0)
		return err;
	return tx_end(q, insert_authz(q, authz));
}

static int sq_order_insert(struct flint_store *st, const struct flint_order *order,
			   const struct flint_authz *new_authzs, size_t n_new)
{
	struct sq_store *q = sq(st);
	int err;

	if (!order || (n_new && !new_authzs) || (order->n_authz && !order->authz_ids))
		return FLINT_EINVAL;
	err = tx_begin(q);
	if (err < 0)
		return err;
	for (size_t i = 0; i < n_new && err == 0; i++)
		err = insert_authz(q, &new_authzs[i]);
	if (err == 0)
		err = exec(q, S_ORDER_INSERT,
			   ARGS(TEXT(order->id), TEXT(order->account_id), TEXT(order->status),
				I64(order->expires), I64(order->not_before), I64(order->not_after),
				I64(order->created), TEXT(order->identifiers_json),
				TEXT(order->error_json), TEXT(order->cert_id), TEXT(order->profile),
				TEXT(order->replaces)));
	for (size_t i = 0; i < order->n_authz && err == 0; i++)
		err = exec(q, S_ORDER_AUTHZ_INSERT,
			   ARGS(TEXT(order->id), I64((int64_t)i), TEXT(order->authz_ids[i])));
	return tx_end(q, err);
}

static int sq_order_get(struct flint_store *st, const char *id, struct flint_order **ret)
{
	return select_one(sq(st), S_ORDER_GET, ARGS(TEXT(id)), read_order, ret);
}

static int sq_order_set_status(struct flint_store *st, const char *id, const char *expect,
			       const char *status, const char *error_json, const char *cert_id)
{
	if (!expect || !status)
		return FLINT_EINVAL;
	return update(sq(st), S_ORDER_SET_STATUS,
		      ARGS(TEXT(id), TEXT(expect), TEXT(status), TEXT(error_json), TEXT(cert_id)),
		      S_ORDER_EXISTS, id);
}

static int sq_orders_by_account(struct flint_store *st, const char *account_id,
				const char *after_id, size_t limit, char ***ret_ids, size_t *ret_n,
				bool *ret_more)
{
	struct sq_store *q = sq(st);
	sqlite3_stmt *seq = NULL;
	char **ids = NULL;
	void *rows;
	size_t n = 0;
	int64_t after = 0;
	int err = 0;

	if (!account_id || !ret_ids || !ret_n || !ret_more)
		return FLINT_EINVAL;
	if (after_id) {
		/* An id that is not an order of this account is not a cursor. The
		 * statement stays active so both reads see one snapshot. */
		err = select_row(q, S_ORDER_SEQ, ARGS(TEXT(after_id), TEXT(account_id)), &seq);
		if (err < 0)
			goto out;
		after = sqlite3_column_int64(seq, 0);
	}
	/* One extra row tells whether more exist. */
	err = select_all(q, S_ORDERS_BY_ACCOUNT,
			 ARGS(TEXT(account_id), I64(after),
			      I64(limit >= (size_t)INT64_MAX ? -1 : (int64_t)limit + 1)),
			 &id_rows, &rows, &n);
	if (err < 0)
		goto out;
	ids = rows;
	*ret_more = n > limit;
	if (n > limit) {
		for (size_t i = limit; i < n; i++)
			free(ids[i]);
		n = limit;
	}
	if (n == 0) {
		free(ids);
		ids = NULL;
	}
	*ret_ids = ids;
	*ret_n = n;
out:
	done(q, seq);
	return err;
}

static int sq_authz_get(struct flint_store *st, const char *id, struct flint_authz **ret)
{
	return select_one(sq(st), S_AUTHZ_GET, ARGS(TEXT(id)), read_authz, ret);
}

static int sq_authz_count_pending(struct flint_store *st, const char *account_id, int64_t now,
				  size_t *ret)
{
	sqlite3_stmt *s = NULL;
	int err = select_row(sq(st), S_AUTHZ_COUNT_PENDING, ARGS(TEXT(account_id), I64(now)), &s);
	if (err == 0)
		*ret = (size_t)sqlite3_column_int64(s, 0);
	done(sq(st), s);
	return err;
}

static int sq_authz_find_valid(struct flint_store *st, const char *account_id,
			       const char *ident_type, const char *ident_value, bool wildcard,
			       int64_t min_expires, struct flint_authz **ret)
{
	return select_one(sq(st), S_AUTHZ_FIND_VALID,
			  ARGS(TEXT(account_id), TEXT(ident_type), TEXT(ident_value),
			       I64(wildcard), I64(min_expires)),
			  read_authz, ret);
}

static int sq_authz_set_status(struct flint_store *st, const char *id, const char *expect,
			       const char *status)
{
	if (!status)
		return FLINT_EINVAL;
	return update(sq(st), S_AUTHZ_SET_STATUS, ARGS(TEXT(id), TEXT(expect), TEXT(status)),
		      S_AUTHZ_EXISTS, id);
}

static int sq_challenge_with_authz(struct flint_store *st, const char *id,
				       struct flint_challenge **ret_challenge,
				       struct flint_authz **ret_authz,
				       struct flint_account **ret_account)
{
	struct challenge_rows v = {.with_account = ret_account != NULL};
	int err = select_one(sq(st), S_CHALLENGE_GET, ARGS(TEXT(id)), read_challenge_rows, &v);

	if (err == 0) {
		*ret_challenge = v.c;
		*ret_authz = v.a;
		if (ret_account)
			*ret_account = v.acct;
	} else {
		flint_challenge_free(v.c);
		flint_authz_free(v.a);
		flint_account_free(v.acct);
	}
	return err;
}

static int sq_challenge_get(struct flint_store *st, const char *id, struct flint_challenge **ret)
{
	return select_one(sq(st), S_CHALLENGE_GET, ARGS(TEXT(id)), read_challenge_new, ret);
}

static int sq_challenge_start(struct flint_store *st, const char *id, const char *node,
			      int64_t claim_until)
{
	if (!node)
		return FLINT_EINVAL;
	return update(sq(st), S_CHALLENGE_START, ARGS(TEXT(id), TEXT(node), I64(claim_until)),
		      S_CHALLENGE_EXISTS, id);
}

static int sq_challenge_finish(struct flint_store *st, const char *id, bool valid,
			       int64_t validated, const char *error_json, int64_t authz_expires)
{
	struct sq_store *q = sq(st);
	const char *status = valid ? "valid" : "invalid";
	int err;

	err = tx_begin(q);
	if (err < 0)
		return err;
	err = update(q, S_CHALLENGE_FINISH,
		     ARGS(TEXT(id), TEXT(status), I64(validated), TEXT(error_json)),
		     S_CHALLENGE_EXISTS, id);
	/* An authz no longer pending (deactivated meanwhile) keeps its status. */
	if (err == 0)
		err = exec(q, S_CHALLENGE_FINISH_AUTHZ,
			   ARGS(TEXT(id), TEXT(status), I64(authz_expires)));
	return tx_end(q, err);
}

/* One UPDATE ... RETURNING: the rows it returns are this node's now. */
static int claim(struct flint_store *st, enum stmt_id id, const struct flint_claim *c,
		 char ***ret_ids, size_t *ret_n)
{
	void *ids = NULL;
	int err;

	if (!c || !c->node || !ret_ids || !ret_n || c->limit == 0)
		return FLINT_EINVAL;
	err = select_all(sq(st), id,
			 ARGS(TEXT(c->node), I64(c->now), I64(c->claim_until), I64(c->own),
			      I64(c->limit > INT64_MAX ? INT64_MAX : (int64_t)c->limit)),
			 &id_rows, &ids, ret_n);
	if (err == 0 && *ret_n == 0) {
		free(ids);
		ids = NULL;
	}
	if (err == 0)
		*ret_ids = ids;
	return err;
}

static int sq_challenges_claim(struct flint_store *st, const struct flint_claim *c,
			       char ***ret_ids, size_t *ret_n)
{
	return claim(st, S_CHALLENGES_CLAIM, c, ret_ids, ret_n);
}

static int sq_orders_claim(struct flint_store *st, const struct flint_claim *c, char ***ret_ids,
			   size_t *ret_n)
{
	return claim(st, S_ORDERS_CLAIM, c, ret_ids, ret_n);
}

static int sq_order_start_finalize(struct flint_store *st, const char *id,
				   const unsigned char *csr, size_t csr_len, const char *node,
				   int64_t now, int64_t claim_until)
{
	if (!csr || !csr_len || !node)
		return FLINT_EINVAL;
	return update(sq(st), S_ORDER_START_FINALIZE,
		      ARGS(TEXT(id), BLOB(csr, csr_len), TEXT(node), I64(claim_until), I64(now)),
		      S_ORDER_EXISTS, id);
}

static int sq_order_csr(struct flint_store *st, const char *id, unsigned char **ret,
			size_t *ret_len)
{
	sqlite3_stmt *s = NULL;
	unsigned char *der = NULL;
	int err = select_row(sq(st), S_ORDER_CSR, ARGS(TEXT(id)), &s);
	int n = err == 0 ? sqlite3_column_bytes(s, 0) : 0;

	if (err == 0 && n <= 0)
		err = FLINT_ENOTFOUND;
	if (err == 0 && !(der = malloc((size_t)n)))
		err = FLINT_ENOMEM;
	if (err == 0) {
		memcpy(der, sqlite3_column_blob(s, 0), (size_t)n);
		*ret = der;
		*ret_len = (size_t)n;
		der = NULL; /* the caller's */
	}
	done(sq(st), s);
	free(der);
	return err;
}

static int sq_lease_acquire(struct flint_store *st, const char *name, const char *holder,
			    int64_t now, int64_t until)
{
	struct sq_store *q = sq(st);
	int err;

	if (!name || !holder)
		return FLINT_EINVAL;
	int64_t changed = 0;

	err = exec_changes(q, S_LEASE_ACQUIRE,
			   ARGS(TEXT(name), TEXT(holder), I64(now), I64(until)), &changed);
	if (err == 0 && changed == 0)
		err = FLINT_ECONFLICT;
	return err;
}

static int cert_insert_row(struct flint_store *st, const struct flint_cert *cert)
{
	return exec(sq(st), S_CERT_INSERT,
		    ARGS(TEXT(cert->id), TEXT(cert->serial), TEXT(cert->account_id),
			 TEXT(cert->order_id), BLOB(cert->der, cert->der_len),
			 TEXT(cert->chain_pem), I64(cert->not_before), I64(cert->not_after),
			 I64(cert->revoked_at), I64(cert->reason), TEXT(cert->names_json),
			 TEXT(cert->profile)));
}

/* The certificate's row and the rows of the domains it counts against for
 * rate limits (the caller's transaction makes them one change). */
static int cert_insert_rows(struct flint_store *st, const struct flint_cert *cert)
{
	int err = cert_insert_row(st, cert);

	for (size_t i = 0; err == 0 && i < cert->n_rate_domains; i++)
		err = exec(sq(st), S_CERT_DOMAIN_INSERT,
			   ARGS(TEXT(cert->rate_domains[i]), TEXT(cert->id), I64(cert->not_before)));
	return err;
}

/* The certificate and, in the same transaction, the domains it counts
 * against for rate limits. */
static int sq_cert_insert(struct flint_store *st, const struct flint_cert *cert)
{
	struct sq_store *q = sq(st);
	int err;

	if (!flint_cert_storable(cert))
		return FLINT_EINVAL;
	if (!cert->n_rate_domains)
		return cert_insert_row(st, cert);
	if ((err = tx_begin(q)) < 0)
		return err;
	return tx_end(q, cert_insert_rows(st, cert));
}

static int sq_cert_issue(struct flint_store *st, const struct flint_cert *cert)
{
	struct sq_store *q = sq(st);
	int err;

	if (!flint_cert_storable(cert) || !cert->order_id)
		return FLINT_EINVAL;
	if ((err = tx_begin(q)) < 0)
		return err;
	err = update(q, S_ORDER_SET_STATUS,
		     ARGS(TEXT(cert->order_id), TEXT("processing"), TEXT("valid"), TEXT(NULL),
			  TEXT(cert->id)),
		     S_ORDER_EXISTS, cert->order_id);
	if (err == 0)
		err = cert_insert_rows(st, cert);
	return tx_end(q, err);
}

/* count(*) and min(time) of a rate-limit query. */
static int count_since(struct sq_store *q, enum stmt_id id, const struct param *p, size_t n,
		       size_t *ret_n, int64_t *ret_oldest)
{
	sqlite3_stmt *s = NULL;
	int err;

	if (!ret_n || !ret_oldest)
		return FLINT_EINVAL;
	err = select_row(q, id, p, n, &s);
	if (err == 0) {
		*ret_n = (size_t)sqlite3_column_int64(s, 0);
		*ret_oldest = sqlite3_column_int64(s, 1);
	}
	done(q, s);
	return err;
}

static int sq_count_orders_since(struct flint_store *st, const char *account_id, int64_t since,
				 size_t *ret_n, int64_t *ret_oldest)
{
	return count_since(sq(st), S_COUNT_ORDERS, ARGS(TEXT(account_id), I64(since)), ret_n,
			   ret_oldest);
}

static int sq_count_certs_for_domain_since(struct flint_store *st, const char *domain,
					   int64_t since, size_t *ret_n, int64_t *ret_oldest)
{
	return count_since(sq(st), S_COUNT_CERT_DOMAIN, ARGS(TEXT(domain), I64(since)), ret_n,
			   ret_oldest);
}

static int sq_count_failed_validations_since(struct flint_store *st, const char *account_id,
					     const char *ident_type, const char *ident_value,
					     int64_t since, size_t *ret_n, int64_t *ret_oldest)
{
	return count_since(sq(st), S_COUNT_FAILED_VALIDATIONS,
			   ARGS(TEXT(account_id), TEXT(ident_type), TEXT(ident_value), I64(since)),
			   ret_n, ret_oldest);
}

static int sq_count_accounts_from_since(struct flint_store *st, const char *ip, int64_t since,
					size_t *ret_n, int64_t *ret_oldest)
{
	return count_since(sq(st), S_COUNT_ACCOUNTS_IP, ARGS(TEXT(ip), I64(since)), ret_n,
			   ret_oldest);
}

static int sq_cert_claim_replacement(struct flint_store *st, const char *cert_id,
				     const char *order_id, const char *expect)
{
	if (!cert_id || !order_id)
		return FLINT_EINVAL;
	return update(sq(st), S_CERT_CLAIM, ARGS(TEXT(cert_id), TEXT(order_id), TEXT(expect)),
		      S_CERT_EXISTS, cert_id);
}

static int sq_certs_set_ari_window(struct flint_store *st, const char *serial,
				   const char *account_id, int64_t now, int64_t start, int64_t end,
				   const char *explanation, size_t *ret_n)
{
	struct sq_store *q = sq(st);
	int err;

	if (!ret_n || end <= start)
		return FLINT_EINVAL;
	int64_t changed = 0;

	err = exec_changes(q, S_CERTS_SET_ARI,
			   ARGS(I64(now), I64(start), I64(end), TEXT(explanation), TEXT(serial),
				TEXT(account_id)),
			   &changed);
	if (err == 0)
		*ret_n = (size_t)changed;
	return err;
}

static int sq_cert_get(struct flint_store *st, const char *id, struct flint_cert **ret)
{
	return select_one(sq(st), S_CERT_GET, ARGS(TEXT(id)), read_cert, ret);
}

static int sq_cert_by_serial(struct flint_store *st, const char *serial, struct flint_cert **ret)
{
	return select_one(sq(st), S_CERT_BY_SERIAL, ARGS(TEXT(serial)), read_cert, ret);
}

static int sq_cert_revoke(struct flint_store *st, const char *id, int reason, int64_t when)
{
	if (when <= 0)
		return FLINT_EINVAL; /* revoked_at 0 means "not revoked" */
	return update(sq(st), S_CERT_REVOKE, ARGS(TEXT(id), I64(when), I64(reason)),
		      S_CERT_EXISTS, id);
}

static int sq_certs_revoked(struct flint_store *st, int64_t now, struct flint_cert ***ret,
			    size_t *ret_n)
{
	void *certs;
	int err;

	if (!ret || !ret_n)
		return FLINT_EINVAL;
	err = select_all(sq(st), S_CERTS_REVOKED, ARGS(I64(now)), &cert_rows, &certs, ret_n);
	if (err == 0)
		*ret = certs;
	return err;
}

const struct flint_store_ops flint_store_sqlite = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.nonce_use = sq_nonce_use,
	.nonce_use_account_get = sq_nonce_use_account_get,
	.secret = sq_secret,
	.nonce_purge = sq_nonce_purge,
	.account_insert = sq_account_insert,
	.account_get = sq_account_get,
	.account_by_thumbprint = sq_account_by_thumbprint,
	.account_update = sq_account_update,
	.account_insert_eab = sq_account_insert_eab,
	.eab_insert = sq_eab_insert,
	.eab_get = sq_eab_get,
	.eab_list = sq_eab_list,
	.eab_remove = sq_eab_remove,
	.authz_insert = sq_authz_insert,
	.order_insert = sq_order_insert,
	.order_get = sq_order_get,
	.order_set_status = sq_order_set_status,
	.orders_by_account = sq_orders_by_account,
	.authz_get = sq_authz_get,
	.authz_find_valid = sq_authz_find_valid,
	.authz_count_pending = sq_authz_count_pending,
	.authz_set_status = sq_authz_set_status,
	.challenge_get = sq_challenge_get,
	.challenge_with_authz = sq_challenge_with_authz,
	.challenge_start = sq_challenge_start,
	.challenge_finish = sq_challenge_finish,
	.challenges_claim = sq_challenges_claim,
	.order_start_finalize = sq_order_start_finalize,
	.orders_claim = sq_orders_claim,
	.order_csr = sq_order_csr,
	.lease_acquire = sq_lease_acquire,
	.cert_insert = sq_cert_insert,
	.cert_issue = sq_cert_issue,
	.cert_get = sq_cert_get,
	.cert_by_serial = sq_cert_by_serial,
	.cert_revoke = sq_cert_revoke,
	.certs_revoked = sq_certs_revoked,
	.cert_claim_replacement = sq_cert_claim_replacement,
	.count_orders_since = sq_count_orders_since,
	.count_certs_for_domain_since = sq_count_certs_for_domain_since,
	.count_failed_validations_since = sq_count_failed_validations_since,
	.count_accounts_from_since = sq_count_accounts_from_since,
	.certs_set_ari_window = sq_certs_set_ari_window,
};
