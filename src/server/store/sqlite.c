/* The SQLite store backend (RFC 8555 §7.1 objects and §7.2 nonces): one
 * connection per handle and thread, WAL for sharing, migrations on user_version. */
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "store/sqlite.h"
#include "store/store.h"

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
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

#define ACCOUNT_COLS "id, jwk_json, thumbprint, contact_json, status, tos_agreed, created"
#define AUTHZ_COLS "id, account_id, ident_type, ident_value, wildcard, status, expires, created"
#define CHALLENGE_COLS "id, authz_id, type, token, status, validated, error_json"
#define ORDER_COLS                                                                      \
	"id, account_id, status, expires, not_before, not_after, created, identifiers_json," \
	" error_json, cert_id"
#define CERT_COLS                                                                       \
	"id, serial, account_id, order_id, der, chain_pem, not_before, not_after, revoked_at," \
	" reason, names_json"

enum stmt_id {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_NONCE_PUT,
	S_NONCE_TAKE,
	S_NONCE_PURGE,
	S_ACCOUNT_INSERT,
	S_ACCOUNT_GET,
	S_ACCOUNT_BY_THUMBPRINT,
	S_ACCOUNT_UPDATE,
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
	S_AUTHZ_SET_STATUS,
	S_AUTHZ_EXISTS,
	S_CHALLENGE_GET,
	S_CHALLENGE_START,
	S_CHALLENGE_EXISTS,
	S_CHALLENGE_FINISH,
	S_CHALLENGE_FINISH_AUTHZ,
	S_CHALLENGES_PROCESSING,
	S_CERT_INSERT,
	S_CERT_GET,
	S_CERT_BY_SERIAL,
	S_CERT_REVOKE,
	S_CERT_EXISTS,
	S_CERTS_REVOKED,
	S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_NONCE_PUT] = "INSERT INTO nonces (value, expires) VALUES (?1, ?2)",
	[S_NONCE_TAKE] = "DELETE FROM nonces WHERE value = ?1 AND expires > ?2",
	[S_NONCE_PURGE] = "DELETE FROM nonces WHERE expires <= ?1",
	[S_ACCOUNT_INSERT] = "INSERT INTO accounts (" ACCOUNT_COLS ")"
			     " VALUES (?1, ?2, ?3, COALESCE(?4, '[]'), ?5, ?6, ?7)",
	[S_ACCOUNT_GET] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE id = ?1",
	[S_ACCOUNT_BY_THUMBPRINT] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE thumbprint = ?1",
	[S_ACCOUNT_UPDATE] = "UPDATE accounts SET jwk_json = ?2, thumbprint = ?3,"
			     " contact_json = COALESCE(?4, '[]'), status = ?5, tos_agreed = ?6"
			     " WHERE id = ?1",
	[S_AUTHZ_INSERT] = "INSERT INTO authzs (" AUTHZ_COLS ")"
			   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[S_CHALLENGE_INSERT] = "INSERT INTO challenges (id, authz_id, pos, type, token, status,"
			       " validated, error_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[S_ORDER_INSERT] = "INSERT INTO orders (" ORDER_COLS ")"
			   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
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
	[S_AUTHZ_FIND_VALID] = "SELECT " AUTHZ_COLS " FROM authzs WHERE account_id = ?1"
			       " AND ident_type = ?2 AND ident_value = ?3 AND wildcard = ?4"
			       " AND status = 'valid' AND expires > ?5"
			       " ORDER BY expires DESC, rowid DESC LIMIT 1",
	[S_AUTHZ_SET_STATUS] = "UPDATE authzs SET status = ?3 WHERE id = ?1"
			       " AND (?2 IS NULL OR status = ?2)",
	[S_AUTHZ_EXISTS] = "SELECT 1 FROM authzs WHERE id = ?1",
	[S_CHALLENGE_GET] = "SELECT " CHALLENGE_COLS " FROM challenges WHERE id = ?1",
	[S_CHALLENGE_START] = "UPDATE challenges SET status = 'processing' WHERE id = ?1"
			      " AND status = 'pending' AND (SELECT a.status FROM authzs a"
			      " WHERE a.id = challenges.authz_id) = 'pending'",
	[S_CHALLENGE_EXISTS] = "SELECT 1 FROM challenges WHERE id = ?1",
	[S_CHALLENGE_FINISH] = "UPDATE challenges SET status = ?2, validated = ?3, error_json = ?4"
			       " WHERE id = ?1 AND status = 'processing'",
	[S_CHALLENGE_FINISH_AUTHZ] = "UPDATE authzs SET status = ?2,"
				     " expires = CASE WHEN ?2 = 'valid' THEN ?3 ELSE expires END"
				     " WHERE id = (SELECT authz_id FROM challenges WHERE id = ?1)"
				     " AND status = 'pending'",
	[S_CHALLENGES_PROCESSING] = "SELECT id FROM challenges WHERE status = 'processing'"
				    " ORDER BY rowid",
	[S_CERT_INSERT] = "INSERT INTO certificates (" CERT_COLS ")"
			  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[S_CERT_GET] = "SELECT " CERT_COLS " FROM certificates WHERE id = ?1",
	[S_CERT_BY_SERIAL] = "SELECT " CERT_COLS " FROM certificates WHERE serial = ?1",
	[S_CERT_REVOKE] = "UPDATE certificates SET revoked_at = ?2, reason = ?3"
			  " WHERE id = ?1 AND revoked_at = 0",
	[S_CERT_EXISTS] = "SELECT 1 FROM certificates WHERE id = ?1",
	[S_CERTS_REVOKED] = "SELECT " CERT_COLS " FROM certificates"
			    " WHERE revoked_at <> 0 AND not_after > ?1 ORDER BY revoked_at, rowid",
};

struct sq_store {
	struct flint_store base; /* first: callers dispatch through base.ops */
	sqlite3 *db;
	sqlite3_stmt *stmt[S_COUNT]; /* prepared on first use, kept until close */
};

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

/* A cached statement, reset and unbound. Callers reset it again when done so
 * that no read transaction stays open between calls. */
static int get_stmt(struct sq_store *q, enum stmt_id id, sqlite3_stmt **ret)
{
	sqlite3_stmt *s = q->stmt[id];
	int rc;

	if (!s) {
		rc = sqlite3_prepare_v3(q->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &s,
					NULL);
		if (rc != SQLITE_OK)
			return map_rc(rc);
		q->stmt[id] = s;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	*ret = s;
	return 0;
}

static void done(sqlite3_stmt *s)
{
	if (s)
		sqlite3_reset(s);
}

/* Binders keep the first failure in *rc so a run of binds is checked once. */
static void bind_text(sqlite3_stmt *s, int i, const char *v, int *rc)
{
	if (*rc == SQLITE_OK)
		*rc = sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static void bind_i64(sqlite3_stmt *s, int i, int64_t v, int *rc)
{
	if (*rc == SQLITE_OK)
		*rc = sqlite3_bind_int64(s, i, v);
}

static void bind_blob(sqlite3_stmt *s, int i, const void *v, size_t n, int *rc)
{
	if (*rc == SQLITE_OK)
		*rc = v ? sqlite3_bind_blob64(s, i, v, n, SQLITE_STATIC) : sqlite3_bind_null(s, i);
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

static int run(struct sq_store *q, enum stmt_id id)
{
	sqlite3_stmt *s = NULL;
	int err;

	err = get_stmt(q, id, &s);
	if (err < 0)
		goto out;
	err = step_done(s);
out:
	done(s);
	return err;
}

static int tx_begin(struct sq_store *q)
{
	return run(q, S_BEGIN);
}

/* Commits, or rolls back when err (or the commit) failed; returns the outcome. */
static int tx_end(struct sq_store *q, int err)
{
	if (err == 0)
		err = run(q, S_COMMIT);
	if (err < 0 && !sqlite3_get_autocommit(q->db))
		(void)run(q, S_ROLLBACK);
	return err;
}

/* Does a row exist for the single-id probe statement? 0 yes, FLINT_ENOTFOUND no. */
static int exists(struct sq_store *q, enum stmt_id id, const char *key)
{
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK, err;

	err = get_stmt(q, id, &s);
	if (err < 0)
		goto out;
	bind_text(s, 1, key, &rc);
	if (rc != SQLITE_OK) {
		err = map_rc(rc);
		goto out;
	}
	err = step_row(s);
out:
	done(s);
	return err;
}

/* After a guarded UPDATE changed nothing: FLINT_ENOTFOUND when the row is
 * missing, FLINT_ECONFLICT when it exists but failed the precondition. */
static int no_change_reason(struct sq_store *q, enum stmt_id probe, const char *key)
{
	int err = exists(q, probe, key);

	return err == 0 ? FLINT_ECONFLICT : err;
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

static int read_account(sqlite3_stmt *s, struct flint_account **ret)
{
	struct flint_account *a;
	int err;

	a = calloc(1, sizeof(*a));
	if (!a)
		return FLINT_ENOMEM;
	if ((err = col_str(s, 0, &a->id)) < 0 || (err = col_str(s, 1, &a->jwk_json)) < 0 ||
	    (err = col_str(s, 2, &a->thumbprint)) < 0 ||
	    (err = col_str(s, 3, &a->contact_json)) < 0 || (err = col_str(s, 4, &a->status)) < 0)
		goto out;
	a->tos_agreed = sqlite3_column_int64(s, 5) != 0;
	a->created = sqlite3_column_int64(s, 6);
	*ret = a;
	a = NULL;
out:
	flint_account_free(a);
	return err;
}

static int read_challenge(sqlite3_stmt *s, struct flint_challenge *c)
{
	int err;

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

static int read_authz(sqlite3_stmt *s, struct flint_authz **ret)
{
	struct flint_authz *a;
	int err;

	a = calloc(1, sizeof(*a));
	if (!a)
		return FLINT_ENOMEM;
	if ((err = col_str(s, 0, &a->id)) < 0 || (err = col_str(s, 1, &a->account_id)) < 0 ||
	    (err = col_str(s, 2, &a->ident_type)) < 0 ||
	    (err = col_str(s, 3, &a->ident_value)) < 0 || (err = col_str(s, 5, &a->status)) < 0)
		goto out;
	a->wildcard = sqlite3_column_int64(s, 4) != 0;
	a->expires = sqlite3_column_int64(s, 6);
	a->created = sqlite3_column_int64(s, 7);
	*ret = a;
	a = NULL;
out:
	flint_authz_free(a);
	return err;
}

static int read_order(sqlite3_stmt *s, struct flint_order **ret)
{
	struct flint_order *o;
	int err;

	o = calloc(1, sizeof(*o));
	if (!o)
		return FLINT_ENOMEM;
	if ((err = col_str(s, 0, &o->id)) < 0 || (err = col_str(s, 1, &o->account_id)) < 0 ||
	    (err = col_str(s, 2, &o->status)) < 0 ||
	    (err = col_str(s, 7, &o->identifiers_json)) < 0 ||
	    (err = col_str(s, 8, &o->error_json)) < 0 || (err = col_str(s, 9, &o->cert_id)) < 0)
		goto out;
	o->expires = sqlite3_column_int64(s, 3);
	o->not_before = sqlite3_column_int64(s, 4);
	o->not_after = sqlite3_column_int64(s, 5);
	o->created = sqlite3_column_int64(s, 6);
	*ret = o;
	o = NULL;
out:
	flint_order_free(o);
	return err;
}

static int read_cert(sqlite3_stmt *s, struct flint_cert **ret)
{
	struct flint_cert *c;
	const void *der;
	int err, n;

	c = calloc(1, sizeof(*c));
	if (!c)
		return FLINT_ENOMEM;
	if ((err = col_str(s, 0, &c->id)) < 0 || (err = col_str(s, 1, &c->serial)) < 0 ||
	    (err = col_str(s, 2, &c->account_id)) < 0 || (err = col_str(s, 3, &c->order_id)) < 0 ||
	    (err = col_str(s, 5, &c->chain_pem)) < 0 || (err = col_str(s, 10, &c->names_json)) < 0)
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
	*ret = c;
	c = NULL;
out:
	flint_cert_free(c);
	return err;
}

/* Collects column 0 of every remaining row, at most max (SIZE_MAX: all). */
static int collect_ids(sqlite3_stmt *s, size_t max, char ***ret_ids, size_t *ret_n)
{
	char **ids = NULL, **grown;
	size_t n = 0, cap = 0;
	int rc, err = 0;

	while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			grown = realloc(ids, cap * sizeof(*ids));
			if (!grown) {
				err = FLINT_ENOMEM;
				goto out;
			}
			ids = grown;
		}
		err = col_str(s, 0, &ids[n]);
		if (err < 0)
			goto out;
		if (!ids[n]) {
			err = FLINT_EIO;
			goto out;
		}
		n++;
	}
	if (n < max && rc != SQLITE_DONE) {
		err = map_rc(rc);
		goto out;
	}
	*ret_ids = ids;
	*ret_n = n;
	ids = NULL;
	n = 0;
out:
	flint_string_list_free(ids, n);
	return err;
}

static int load_challenges(struct sq_store *q, struct flint_authz *a)
{
	struct flint_challenge *cs = NULL, *grown;
	sqlite3_stmt *s = NULL;
	size_t n = 0, cap = 0;
	int rc = SQLITE_OK, err;

	err = get_stmt(q, S_AUTHZ_CHALLENGES, &s);
	if (err < 0)
		goto out;
	bind_text(s, 1, a->id, &rc);
	if (rc != SQLITE_OK) {
		err = map_rc(rc);
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4;
			grown = realloc(cs, cap * sizeof(*cs));
			if (!grown) {
				err = FLINT_ENOMEM;
				goto out;
			}
			cs = grown;
		}
		err = read_challenge(s, &cs[n]);
		if (err < 0)
			goto out;
		n++;
	}
	if (rc != SQLITE_DONE) {
		err = map_rc(rc);
		goto out;
	}
	a->challenges = cs;
	a->n_challenges = n;
	cs = NULL;
	n = 0;
out:
	done(s);
	for (size_t i = 0; i < n; i++)
		flint_challenge_clear(&cs[i]);
	free(cs);
	return err;
}

static void sq_close(struct flint_store *st)
{
	struct sq_store *q = sq(st);

	if (!q)
		return;
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(q->stmt[i]);
	sqlite3_close_v2(q->db);
	free(q);
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
	char pragma[64];
	int version = 0, err;

	err = tx_begin(q);
	if (err < 0)
		return err;
	err = user_version(q->db, &version);
	if (err < 0)
		goto out;
	if (version > N_MIGRATIONS) {
		err = FLINT_EUNSUPPORTED; /* written by a newer flintd */
		goto out;
	}
	for (int v = version; v < N_MIGRATIONS; v++) {
		err = map_rc(sqlite3_exec(q->db, migrations[v], NULL, NULL, NULL));
		if (err < 0)
			goto out;
	}
	if (version < N_MIGRATIONS) {
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", N_MIGRATIONS);
		err = map_rc(sqlite3_exec(q->db, pragma, NULL, NULL, NULL));
	}
out:
	return tx_end(q, err);
}

static int sq_open(const char *dsn, struct flint_store **ret)
{
	struct sq_store *q = NULL;
	int rc, err;

	if (!dsn || !*dsn || !ret)
		return FLINT_EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return FLINT_ENOMEM;
	q->base.ops = &flint_store_sqlite;
	rc = sqlite3_open_v2(dsn, &q->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		err = q->db ? map_rc(rc) : FLINT_ENOMEM;
		goto out;
	}
	sqlite3_extended_result_codes(q->db, 1);
	/* The busy timeout comes first: switching to WAL itself may have to wait. */
	rc = sqlite3_busy_timeout(q->db, 10000);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(q->db,
				  "PRAGMA journal_mode = WAL;"
				  "PRAGMA synchronous = NORMAL;"
				  "PRAGMA foreign_keys = ON;",
				  NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		err = map_rc(rc);
		goto out;
	}
	err = migrate(q);
	if (err < 0)
		goto out;
	*ret = &q->base;
	q = NULL;
out:
	if (q)
		sq_close(&q->base);
	return err;
}

static int sq_nonce_put(struct flint_store *st, const char *nonce, int64_t expires)
{
	struct sq_store *q = sq(st);
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK, err;

	err = get_stmt(q, S_NONCE_PUT, &s);
	if (err < 0)
		goto out;
	bind_text(s, 1, nonce, &rc);
	bind_i64(s, 2, expires, &rc);
	err = rc != SQLITE_OK ? map_rc(rc) : step_done(s);
out:
	done(s);
	return err;
}

static int sq_nonce_take(struct flint_store *st, const char *nonce, int64_t now)
{
	struct sq_store *q = sq(st);
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK, err;

	err = get_stmt(q, S_NONCE_TAKE, &s);
	if (err < 0)
		goto out;
	bind_text(s, 1, nonce, &rc);
	bind_i64(s, 2, now, &rc);
	err = rc != SQLITE_OK ? map_rc(rc) : step_done(s);
	if (err == 0 && sqlite3_changes(q->db) == 0)
		err = FLINT_ENOTFOUND;
out:
	done(s);
	return err;
}

static int sq_nonce_purge(struct flint_store *st, int64_t now)
{
	struct sq_store *q = sq(st);
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK, err;

	err = get_stmt(q, S_NONCE_PURGE, &s);
	if (err < 0)
		goto out;
	bind_i64(s, 1, now, &rc);
	err = rc != SQLITE_OK ? map_rc(rc) : step_done(s);
out:
	done(s);
	return err;
}

static int sq_account_insert(struct flint_store *st, const struct flint_account *acct)
{
	struct sq_store *q = sq(st);
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK, err;

	if (!acct)
		return FLINT_EINVAL;
	err = get_stmt(q, S_ACCOUNT_INSERT, &s);
	if (err < 0)
		goto out;
	bind_text(s, 1, acct->id, &rc);
	bind_text(s, 2, acct->jwk_json, &rc);
	bind_text(s, 3, acct->thumbprint, &rc);
	bind_text(s, 4, acct->contact_json, &rc);
	bind_text(s, 5, acct->status, &rc);
	bind_i64(s, 6, acct->tos_agreed, &rc);
	bind_i64(s, 7, acct->created, &rc);
	err = rc != SQLITE_OK ? map_rc(rc) : step_done(s);
out:
	done(s);
	return err;
}

static int account_by(struct sq_store *q, enum stmt_id id, const char *key,
		      struct flint_account **ret)
{
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK, err;

	err = get_stmt(q, id, &s);
	if (err < 0)
		goto out;
	bind_text(s, 1, key, &rc);
	err = rc != SQLITE_OK ? map_rc(rc) : step_row(s);
	if (err < 0)
		goto out;
	err = read_account(s, ret);
out:
	done(s);
	return err;
}

static int sq_account_get(struct flint_store *st, const char *id, struct flint_account **ret)
{
	return account_by(sq(st), S_ACCOUNT_GET, id, ret);
}

static int sq_account_by_thumbprint(struct flint_store *st, const char *thumbprint,
				    struct flint_account **ret)
{
	return account_by(sq(st), S_ACCOUNT_BY_THUMBPRINT, thumbprint, ret);
}

/* One UPDATE statement, atomic on its own; the unique index on thumbprint
 * turns a key change onto another account's key into FLINT_ECONFLICT. */
static int sq_account_update(struct flint_store *st, const struct flint_account *acct)
{
	struct sq_store *q = sq(st);
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK, err;

	if (!acct)
		return FLINT_EINVAL;
	err = get_stmt(q, S_ACCOUNT_UPDATE, &s);
	if (err < 0)
		goto out;
	bind_text(s, 1, acct->id, &rc);
	bind_text(s, 2, acct->jwk_json, &rc);
	bind_text(s, 3, acct->thumbprint, &rc);
	bind_text(s, 4, acct->contact_json, &rc);
	bind_text(s, 5, acct->status, &rc);
	bind_i64(s, 6, acct->tos_agreed, &rc);
	err = rc != SQLITE_OK ? map_rc(rc) : step_done(s);
	if (err == 0 && sqlite3_changes(q->db) == 0)
		err = FLINT_ENOTFOUND;
out:
	done(s);
	return err;
}

static int insert_authz(struct sq_store *q, const struct flint_authz *a)
{
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK, err;

	err = get_stmt(q, S_AUTHZ_INSERT, &s);
	if (err < 0)
		goto out;
	bind_text(s, 1, a->id, &rc);
	bind_text(s, 2, a->account_id, &rc);
	bind_text(s, 3, a->ident_type, &rc);
	bind_text(s, 4, a->ident_value, &rc);
	bind_i64(s, 5, a->wildcard, &rc);
	bind_text(s, 6, a->status, &rc);
	bind_i64(s, 7, a->expires, &rc);
	bind_i64(s, 8, a->created, &rc);
	err = rc != SQLITE_OK ? map_rc(rc) : step_done(s);
	if (err < 0)
		goto out;
	for (size_t i = 0; i < a->n_challenges; i++) {
		const struct flint_challenge *c = &a->challenges[i];

		done(s);
		err = get_stmt(q, S_CHALLENGE_INSERT, &s);
		if (err < 0)
			goto out;
		bind_text(s, 1, c->id, &rc);
		/* The challenges belong to this authz whatever c->authz_id says. */
		bind_text(s, 2, a->id, &rc);
		bind_i64(s, 3, (int64_t)i, &rc);
		bind_text(s, 4, c->type, &rc);
		bind_text(s, 5, c->token, &rc);
		bind_text(s, 6, c->status ? c->status : "pending", &rc);
		bind_i64(s, 7, c->validated, &rc);
		bind_text(s, 8, c->error_json, &rc);
		err = rc != SQLITE_OK ? map_rc(rc) : step_done(s);
		if (err < 0)
			goto out;
	}
out:
	done(s);
	return err;
}

static int sq_order_insert(struct flint_store *st, const struct flint_order *order,
			   const struct flint_authz *new_authzs, size_t n_new)
{
	struct sq_store *q = sq(st);
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK, err;

	if (!order || (n_new && !new_authzs) || (order->n_authz && !order->authz_ids))
		return FLINT_EINVAL;
	err = tx_begin(q);
	if (err < 0)
		return err;
	for (size_t i = 0; i < n_new; i++) {
		err = insert_authz(q, &new_authzs[i]);
		if (err < 0)
			goto out;
	}
	err = get_stmt(q, S_ORDER_INSERT, &s);
	if (err < 0)
		goto out;
	bind_text(s, 1, order->id, &rc);
	bind_text(s, 2, order->account_id, &rc);
	bind_text(s, 3, order->status, &rc);
	bind_i64(s, 4, order->expires, &rc);
	bind_i64(s, 5, order->not_before, &rc);
	bind_i64(s, 6, order->not_after, &rc);
	bind_i64(s, 7, order->created, &rc);
	bind_text(s, 8, order->identifiers_json, &rc);
	bind_text(s, 9, order->error_json, &rc);
	bind_text(s, 10, order->cert_id, &rc);
	err = rc != SQLITE_OK ? map_rc(rc) : step_done(s);
	if (err < 0)
		goto out;
	for (size_t i = 0; i < order->n_authz; i++) {
		done(s);
		err = get_stmt(q, S_ORDER_AUTHZ_INSERT, &s);
		if (err < 0)
			goto out;
		bind_text(s, 1, order->id, &rc);
		bind_i64(s, 2, (int64_t)i, &rc);
		bind_text(s, 3, order->authz_ids[i], &rc);
		err = rc != SQLITE_OK ? map_rc(rc) : step_done(s);
		if (err < 0)
			goto out;
	}
out:
	done(s);
	return tx_end(q, err);
}

static int sq_order_get(struct flint_store *st, const char *id, struct flint_order **ret)
{
	struct sq_store *q = sq(st);
	struct flint_order *o = NULL;
	sqlite3_stmt *s = NULL, *ids = NULL;
	int rc = SQLITE_OK, err;

	err = get_stmt(q, S_ORDER_GET, &s);
	if (err < 0)
		goto out;
	bind_text(s, 1, id, &rc);
	err = rc != SQLITE_OK ? map_rc(rc) : step_row(s);
	if (err < 0)
		goto out;
	err = read_order(s, &o);
	if (err < 0)
		goto out;
	/* s stays active so both reads see one snapshot. */
	err = get_stmt(q, S_ORDER_AUTHZ_IDS, &ids);
	if (err < 0)
		goto out;
	bind_text(ids, 1, id, &rc);
	err = rc != SQLITE_OK ? map_rc(rc) : collect_ids(ids, SIZE_MAX, &o->authz_ids, &o->n_authz);
	if (err < 0)
		goto out;
	*ret = o;
	o = NULL;
out:
	done(ids);
	done(s);
	flint_order_free(o);
	return err;
}

static int sq_order_set_status(struct flint_store *st, const char *id, const char *expect,
			       const char *status, const char *error_json, const char *cert_id)
{
	struct sq_store *q = sq(st);
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK, err;

	if (!expect || !status)
		return FLINT_EINVAL;
	err = get_stmt(q, S_ORDER_SET_STATUS, &s);
	if (err < 0)
		goto out;
	bind_text(s, 1, id, &rc);
	bind_text(s, 2, expect, &rc);
	bind_text(s, 3, status, &rc);
	bind_text(s, 4, error_json, &rc);
	bind_text(s, 5, cert_id, &rc);
	err = rc != SQLITE_OK ? map_rc(rc) : step_done(s);
	if (err == 0 && sqlite3_changes(q->db) == 0)
		err = no_change_reason(q, S_ORDER_EXISTS, id);
out:
	done(s);
	return err;
}

static int sq_orders_by_account(struct flint_store *st, const char *account_id,
				const char *after_id, size_t limit, char ***ret_ids, size_t *ret_n,
				bool *ret_more)
{
	struct sq_store *q = sq(st);
	sqlite3_stmt *s = NULL, *seq = NULL;
	char **ids = NULL;
	size_t n = 0;
	int64_t after = 0;
	int rc = SQLITE_OK, err = 0;

	if (!account_id || !ret_ids || !ret_n || !ret_more)
		return FLINT_EINVAL;
	if (after_id) {
		/* An id that is not an order of this account is not a cursor. */
		err = get_stmt(q, S_ORDER_SEQ, &seq);
		if (err < 0)
			goto out;
		bind_text(seq, 1, after_id, &rc);
		bind_text(seq, 2, account_id, &rc);
		err = rc != SQLITE_OK ? map_rc(rc) : step_row(seq);
		if (err < 0)
			goto out;
		after = sqlite3_column_int64(seq, 0);
	}
	err = get_stmt(q, S_ORDERS_BY_ACCOUNT, &s);
	if (err < 0)
		goto out;
	bind_text(s, 1, account_id, &rc);
	bind_i64(s, 2, after, &rc);
	/* One extra row tells whether more exist. */
	bind_i64(s, 3, limit >= (size_t)INT64_MAX ? -1 : (int64_t)limit + 1, &rc);
	err = rc != SQLITE_OK ? map_rc(rc) : collect_ids(s, SIZE_MAX, &ids, &n);
	if (err < 0)
		goto out;
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
	ids = NULL;
	n = 0;
out:
	done(seq);
	done(s);
	flint_string_list_free(ids, n);
	return err;
}

/* Reads the authz of the current row of s and its challenges. */
static int authz_from_row(struct sq_store *q, sqlite3_stmt *s, struct flint_authz **ret)
{
	struct flint_authz *a = NULL;
	int err;

	err = read_authz(s, &a);
	if (err < 0)
		goto out;
	err = load_challenges(q, a);
	if (err < 0)
		goto out;
	*ret = a;
	a = NULL;
out:
	flint_authz_free(a);
	return err;
}

static int sq_authz_get(struct flint_store *st, const char *id, struct flint_authz **ret)
{
	struct sq_store *q = sq(st);
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK, err;

	err = get_stmt(q, S_AUTHZ_GET, &s);
	if (err < 0)
		goto out;
	bind_text(s, 1, id, &rc);
	err = rc != SQLITE_OK ? map_rc(rc) : step_row(s);
	if (err < 0)
		goto out;
	err = authz_from_row(q, s, ret);
out:
	done(s);
	return err;
}

static int sq_authz_find_valid(struct flint_store *st, const char *account_id,
			       const char *ident_type, const char *ident_value, bool wildcard,
			       int64_t min_expires, struct flint_authz **ret)
{
	struct sq_store *q = sq(st);
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK, err;

	err = get_stmt(q, S_AUTHZ_FIND_VALID, &s);
	if (err < 0)
		goto out;
	bind_text(s, 1, account_id, &rc);
	bind_text(s, 2, ident_type, &rc);
	bind_text(s, 3, ident_value, &rc);
	bind_i64(s, 4, wildcard, &rc);
	bind_i64(s, 5, min_expires, &rc);
	err = rc != SQLITE_OK ? map_rc(rc) : step_row(s);
	if (err < 0)
		goto out;
	err = authz_from_row(q, s, ret);
out:
	done(s);
	return err;
}

static int sq_authz_set_status(struct flint_store *st, const char *id, const char *expect,
			       const char *status)
{
	struct sq_store *q = sq(st);
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK, err;

	if (!status)
		return FLINT_EINVAL;
	err = get_stmt(q, S_AUTHZ_SET_STATUS, &s);
	if (err < 0)
		goto out;
	bind_text(s, 1, id, &rc);
	bind_text(s, 2, expect, &rc);
	bind_text(s, 3, status, &rc);
	err = rc != SQLITE_OK ? map_rc(rc) : step_done(s);
	if (err == 0 && sqlite3_changes(q->db) == 0)
		err = no_change_reason(q, S_AUTHZ_EXISTS, id);
out:
	done(s);
	return err;
}

static int sq_challenge_get(struct flint_store *st, const char *id, struct flint_challenge **ret)
{
	struct sq_store *q = sq(st);
	struct flint_challenge *c = NULL;
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK, err;

	err = get_stmt(q, S_CHALLENGE_GET, &s);
	if (err < 0)
		goto out;
	bind_text(s, 1, id, &rc);
	err = rc != SQLITE_OK ? map_rc(rc) : step_row(s);
	if (err < 0)
		goto out;
	c = calloc(1, sizeof(*c));
	if (!c) {
		err = FLINT_ENOMEM;
		goto out;
	}
	err = read_challenge(s, c);
	if (err < 0)
		goto out;
	*ret = c;
	c = NULL;
out:
	done(s);
	free(c); /* read_challenge cleared it on failure */
	return err;
}

static int sq_challenge_start(struct flint_store *st, const char *id)
{
	struct sq_store *q = sq(st);
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK, err;

	err = get_stmt(q, S_CHALLENGE_START, &s);
	if (err < 0)
		goto out;
	bind_text(s, 1, id, &rc);
	err = rc != SQLITE_OK ? map_rc(rc) : step_done(s);
	if (err == 0 && sqlite3_changes(q->db) == 0)
		err = no_change_reason(q, S_CHALLENGE_EXISTS, id);
out:
	done(s);
	return err;
}

static int sq_challenge_finish(struct flint_store *st, const char *id, bool valid,
			       int64_t validated, const char *error_json, int64_t authz_expires)
{
	struct sq_store *q = sq(st);
	const char *status = valid ? "valid" : "invalid";
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK, err;

	err = tx_begin(q);
	if (err < 0)
		return err;
	err = get_stmt(q, S_CHALLENGE_FINISH, &s);
	if (err < 0)
		goto out;
	bind_text(s, 1, id, &rc);
	bind_text(s, 2, status, &rc);
	bind_i64(s, 3, validated, &rc);
	bind_text(s, 4, error_json, &rc);
	err = rc != SQLITE_OK ? map_rc(rc) : step_done(s);
	if (err == 0 && sqlite3_changes(q->db) == 0)
		err = no_change_reason(q, S_CHALLENGE_EXISTS, id);
	if (err < 0)
		goto out;
	done(s);
	/* An authz no longer pending (deactivated meanwhile) keeps its status. */
	err = get_stmt(q, S_CHALLENGE_FINISH_AUTHZ, &s);
	if (err < 0)
		goto out;
	bind_text(s, 1, id, &rc);
	bind_text(s, 2, status, &rc);
	bind_i64(s, 3, authz_expires, &rc);
	err = rc != SQLITE_OK ? map_rc(rc) : step_done(s);
out:
	done(s);
	return tx_end(q, err);
}

static int sq_challenges_processing(struct flint_store *st, char ***ret_ids, size_t *ret_n)
{
	struct sq_store *q = sq(st);
	sqlite3_stmt *s = NULL;
	int err;

	if (!ret_ids || !ret_n)
		return FLINT_EINVAL;
	err = get_stmt(q, S_CHALLENGES_PROCESSING, &s);
	if (err < 0)
		goto out;
	err = collect_ids(s, SIZE_MAX, ret_ids, ret_n);
out:
	done(s);
	return err;
}

static int sq_cert_insert(struct flint_store *st, const struct flint_cert *cert)
{
	struct sq_store *q = sq(st);
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK, err;

	if (!cert || !cert->der || !cert->der_len)
		return FLINT_EINVAL;
	err = get_stmt(q, S_CERT_INSERT, &s);
	if (err < 0)
		goto out;
	bind_text(s, 1, cert->id, &rc);
	bind_text(s, 2, cert->serial, &rc);
	bind_text(s, 3, cert->account_id, &rc);
	bind_text(s, 4, cert->order_id, &rc);
	bind_blob(s, 5, cert->der, cert->der_len, &rc);
	bind_text(s, 6, cert->chain_pem, &rc);
	bind_i64(s, 7, cert->not_before, &rc);
	bind_i64(s, 8, cert->not_after, &rc);
	bind_i64(s, 9, cert->revoked_at, &rc);
	bind_i64(s, 10, cert->reason, &rc);
	bind_text(s, 11, cert->names_json, &rc);
	err = rc != SQLITE_OK ? map_rc(rc) : step_done(s);
out:
	done(s);
	return err;
}

static int cert_by(struct sq_store *q, enum stmt_id id, const char *key, struct flint_cert **ret)
{
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK, err;

	err = get_stmt(q, id, &s);
	if (err < 0)
		goto out;
	bind_text(s, 1, key, &rc);
	err = rc != SQLITE_OK ? map_rc(rc) : step_row(s);
	if (err < 0)
		goto out;
	err = read_cert(s, ret);
out:
	done(s);
	return err;
}

static int sq_cert_get(struct flint_store *st, const char *id, struct flint_cert **ret)
{
	return cert_by(sq(st), S_CERT_GET, id, ret);
}

static int sq_cert_by_serial(struct flint_store *st, const char *serial, struct flint_cert **ret)
{
	return cert_by(sq(st), S_CERT_BY_SERIAL, serial, ret);
}

static int sq_cert_revoke(struct flint_store *st, const char *id, int reason, int64_t when)
{
	struct sq_store *q = sq(st);
	sqlite3_stmt *s = NULL;
	int rc = SQLITE_OK, err;

	if (when <= 0)
		return FLINT_EINVAL; /* revoked_at 0 means "not revoked" */
	err = get_stmt(q, S_CERT_REVOKE, &s);
	if (err < 0)
		goto out;
	bind_text(s, 1, id, &rc);
	bind_i64(s, 2, when, &rc);
	bind_i64(s, 3, reason, &rc);
	err = rc != SQLITE_OK ? map_rc(rc) : step_done(s);
	if (err == 0 && sqlite3_changes(q->db) == 0)
		err = no_change_reason(q, S_CERT_EXISTS, id);
out:
	done(s);
	return err;
}

static int sq_certs_revoked(struct flint_store *st, int64_t now, struct flint_cert ***ret,
			    size_t *ret_n)
{
	struct sq_store *q = sq(st);
	struct flint_cert **certs = NULL, **grown;
	sqlite3_stmt *s = NULL;
	size_t n = 0, cap = 0;
	int rc = SQLITE_OK, err;

	if (!ret || !ret_n)
		return FLINT_EINVAL;
	err = get_stmt(q, S_CERTS_REVOKED, &s);
	if (err < 0)
		goto out;
	bind_i64(s, 1, now, &rc);
	if (rc != SQLITE_OK) {
		err = map_rc(rc);
		goto out;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			grown = realloc(certs, cap * sizeof(*certs));
			if (!grown) {
				err = FLINT_ENOMEM;
				goto out;
			}
			certs = grown;
		}
		err = read_cert(s, &certs[n]);
		if (err < 0)
			goto out;
		n++;
	}
	if (rc != SQLITE_DONE) {
		err = map_rc(rc);
		goto out;
	}
	*ret = certs;
	*ret_n = n;
	certs = NULL;
	n = 0;
out:
	done(s);
	flint_cert_list_free(certs, n);
	return err;
}

const struct flint_store_ops flint_store_sqlite = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.nonce_put = sq_nonce_put,
	.nonce_take = sq_nonce_take,
	.nonce_purge = sq_nonce_purge,
	.account_insert = sq_account_insert,
	.account_get = sq_account_get,
	.account_by_thumbprint = sq_account_by_thumbprint,
	.account_update = sq_account_update,
	.order_insert = sq_order_insert,
	.order_get = sq_order_get,
	.order_set_status = sq_order_set_status,
	.orders_by_account = sq_orders_by_account,
	.authz_get = sq_authz_get,
	.authz_find_valid = sq_authz_find_valid,
	.authz_set_status = sq_authz_set_status,
	.challenge_get = sq_challenge_get,
	.challenge_start = sq_challenge_start,
	.challenge_finish = sq_challenge_finish,
	.challenges_processing = sq_challenges_processing,
	.cert_insert = sq_cert_insert,
	.cert_get = sq_cert_get,
	.cert_by_serial = sq_cert_by_serial,
	.cert_revoke = sq_cert_revoke,
	.certs_revoked = sq_certs_revoked,
};
