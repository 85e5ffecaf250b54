/* The PostgreSQL store backend (RFC 8555 §7.1 objects and §7.2 nonces) over
 * libpq: prepared statements, binary BYTEA, migrations on a schema_version row.
 *
 * One handle is one PGconn and is used by one thread at a time. flintd opens a
 * handle per event loop and per validation worker, so those per-thread handles
 * are the connection pool; there is no pool inside this file.
 *
 * The SQL keeps to what PostgreSQL-compatible distributed databases accept: no
 * advisory locks, no sequences or SERIAL (a single writer would own them).
 * Creation order, where SQLite uses its rowid or an AUTOINCREMENT column, is
 * an "ins" column: microseconds since the epoch on the inserting node's clock,
 * tie-broken by the row's unique id. Compare-and-set preconditions are single
 * UPDATE statements, atomic under READ COMMITTED on their own; multi-statement
 * operations run in one transaction, as in sqlite.c. Under SERIALIZABLE (the
 * default of distributed databases) a serialization failure or deadlock runs
 * the statement or transaction again, a few times, before it is FLINT_EIO. */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "store/postgres.h"
#include "store/store.h"
#include "store/store_param.h"

/* Schema migrations, applied in order in one transaction; migration i moves
 * schema_version from i to i+1. Never edit an entry once released: append a
 * new one. Migration 1 is the schema SQLite reached with its migration 6. */
static const char *const migrations[] = {
	/* 1: initial schema */
	"CREATE TABLE accounts ("
	" id TEXT PRIMARY KEY,"
	" jwk_json TEXT NOT NULL,"
	" thumbprint TEXT NOT NULL UNIQUE,"
	" contact_json TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" tos_agreed BIGINT NOT NULL,"
	" created BIGINT NOT NULL,"
	" eab_json TEXT,"
	" created_ip TEXT);"
	"CREATE INDEX accounts_ip ON accounts(created_ip, created) WHERE created_ip IS NOT NULL;"
	"CREATE TABLE authzs ("
	" id TEXT PRIMARY KEY,"
	" account_id TEXT NOT NULL REFERENCES accounts(id),"
	" ident_type TEXT NOT NULL,"
	" ident_value TEXT NOT NULL,"
	" wildcard BIGINT NOT NULL,"
	" status TEXT NOT NULL,"
	" expires BIGINT NOT NULL,"
	" created BIGINT NOT NULL,"
	" ins BIGINT NOT NULL);"
	"CREATE INDEX authzs_find ON authzs(account_id, ident_type, ident_value, wildcard, status,"
	" expires);"
	"CREATE INDEX authzs_pending ON authzs(account_id, status, expires);"
	"CREATE TABLE challenges ("
	" id TEXT PRIMARY KEY,"
	" authz_id TEXT NOT NULL REFERENCES authzs(id),"
	" pos BIGINT NOT NULL,"
	" type TEXT NOT NULL,"
	" token TEXT NOT NULL,"
	" status TEXT NOT NULL,"
	" validated BIGINT NOT NULL DEFAULT 0,"
	" error_json TEXT,"
	" ins BIGINT NOT NULL);"
	"CREATE INDEX challenges_authz ON challenges(authz_id, pos);"
	"CREATE INDEX challenges_status ON challenges(status);"
	/* paging: (created, ins, id) is unique and needs no single writer */
	"CREATE TABLE orders ("
	" id TEXT PRIMARY KEY,"
	" account_id TEXT NOT NULL REFERENCES accounts(id),"
	" status TEXT NOT NULL,"
	" expires BIGINT NOT NULL,"
	" not_before BIGINT NOT NULL DEFAULT 0,"
	" not_after BIGINT NOT NULL DEFAULT 0,"
	" created BIGINT NOT NULL,"
	" identifiers_json TEXT NOT NULL,"
	" error_json TEXT,"
	" cert_id TEXT,"
	" profile TEXT,"
	" replaces TEXT,"
	" ins BIGINT NOT NULL);"
	"CREATE INDEX orders_account ON orders(account_id, created, ins, id);"
	"CREATE TABLE order_authzs ("
	" order_id TEXT NOT NULL REFERENCES orders(id),"
	" pos BIGINT NOT NULL,"
	" authz_id TEXT NOT NULL REFERENCES authzs(id),"
	" PRIMARY KEY (order_id, pos));"
	"CREATE INDEX order_authzs_authz ON order_authzs(authz_id);"
	"CREATE TABLE certificates ("
	" id TEXT PRIMARY KEY,"
	" serial TEXT NOT NULL UNIQUE,"
	" account_id TEXT NOT NULL,"
	" order_id TEXT,"
	" der BYTEA NOT NULL,"
	" chain_pem TEXT NOT NULL,"
	" not_before BIGINT NOT NULL,"
	" not_after BIGINT NOT NULL,"
	" revoked_at BIGINT NOT NULL DEFAULT 0,"
	" reason BIGINT NOT NULL DEFAULT 0,"
	" names_json TEXT NOT NULL,"
	" profile TEXT,"
	" replaced_by TEXT,"
	" ari_start BIGINT NOT NULL DEFAULT 0,"
	" ari_end BIGINT NOT NULL DEFAULT 0,"
	" ari_explanation TEXT,"
	" ins BIGINT NOT NULL);"
	"CREATE INDEX certificates_revoked ON certificates(not_after) WHERE revoked_at <> 0;"
	"CREATE INDEX certificates_account ON certificates(account_id, not_after);"
	"CREATE TABLE cert_domains ("
	" domain TEXT NOT NULL,"
	" cert_id TEXT NOT NULL,"
	" issued BIGINT NOT NULL,"
	" PRIMARY KEY (domain, cert_id));"
	"CREATE INDEX cert_domains_issued ON cert_domains(domain, issued);"
	"CREATE TABLE used_nonces ("
	" value TEXT PRIMARY KEY,"
	" expires BIGINT NOT NULL);"
	"CREATE INDEX used_nonces_expires ON used_nonces(expires);"
	"CREATE TABLE secrets ("
	" name TEXT PRIMARY KEY,"
	" value BYTEA NOT NULL);"
	"CREATE TABLE eab_keys ("
	" kid TEXT PRIMARY KEY,"
	" alg TEXT NOT NULL,"
	" hmac_key BYTEA NOT NULL,"
	" created BIGINT NOT NULL,"
	" account_id TEXT UNIQUE REFERENCES accounts(id),"
	" used BIGINT NOT NULL DEFAULT 0,"
	" ins BIGINT NOT NULL);",
	/* 2 (SQLite's 7): several nodes on one database: claims on work in
	 * processing, the CSR of an order being finalized, leases on jobs */
	"ALTER TABLE challenges ADD COLUMN claimed_by TEXT;"
	"ALTER TABLE challenges ADD COLUMN claim_until BIGINT NOT NULL DEFAULT 0;"
	"ALTER TABLE orders ADD COLUMN csr BYTEA;"
	"ALTER TABLE orders ADD COLUMN claimed_by TEXT;"
	"ALTER TABLE orders ADD COLUMN claim_until BIGINT NOT NULL DEFAULT 0;"
	"CREATE INDEX orders_processing ON orders(claim_until) WHERE status = 'processing';"
	"CREATE TABLE leases ("
	" name TEXT PRIMARY KEY,"
	" holder TEXT NOT NULL,"
	" until BIGINT NOT NULL);",
	/* 3 (SQLite's 8): used nonces keyed by (expires, value): the expiry is
	 * part of the nonce, so uniqueness is the same, and inserts append */
	"CREATE TABLE used_nonces_by_expiry ("
	" expires BIGINT NOT NULL,"
	" value TEXT NOT NULL,"
	" PRIMARY KEY (expires, value));"
	"INSERT INTO used_nonces_by_expiry (expires, value) SELECT expires, value FROM used_nonces;"
	"DROP TABLE used_nonces;"
	"ALTER TABLE used_nonces_by_expiry RENAME TO used_nonces;",
	/* 4 (SQLite's 9): only challenges in processing indexed by state */
	("DROP INDEX challenges_status;"
	 "CREATE INDEX challenges_processing ON challenges(claim_until) WHERE status = 'processing';"),
	/* 5 (SQLite's 10): rate-limit domains keyed by (domain, issued,
	 * cert_id): one index where two were */
	"CREATE TABLE cert_domains_by_issued ("
	" domain TEXT NOT NULL,"
	" issued BIGINT NOT NULL,"
	" cert_id TEXT NOT NULL,"
	" PRIMARY KEY (domain, issued, cert_id));"
	"INSERT INTO cert_domains_by_issued (domain, issued, cert_id)"
	" SELECT domain, issued, cert_id FROM cert_domains;"
	"DROP TABLE cert_domains;"
	"ALTER TABLE cert_domains_by_issued RENAME TO cert_domains;",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

#define ACCOUNT_COLS \
	"id, jwk_json, thumbprint, contact_json, status, tos_agreed, created, eab_json"
#define EAB_COLS "kid, alg, hmac_key, created, account_id, used"
#define ACCOUNT_COLS_T                                                                  \
	"t.id, t.jwk_json, t.thumbprint, t.contact_json, t.status, t.tos_agreed, t.created," \
	" t.eab_json"
#define AUTHZ_COLS "id, account_id, ident_type, ident_value, wildcard, status, expires, created"
#define AUTHZ_COLS_A                                                                   \
	"a.id, a.account_id, a.ident_type, a.ident_value, a.wildcard, a.status, a.expires," \
	" a.created"
#define CHALLENGE_COLS "id, authz_id, type, token, status, validated, error_json"
#define CHALLENGE_COLS_C "c.id, c.authz_id, c.type, c.token, c.status, c.validated, c.error_json"
#define ORDER_COLS                                                                      \
	"id, account_id, status, expires, not_before, not_after, created, identifiers_json," \
	" error_json, cert_id, profile, replaces"
#define ORDER_COLS_O                                                                         \
	"o.id, o.account_id, o.status, o.expires, o.not_before, o.not_after, o.created,"        \
	" o.identifiers_json, o.error_json, o.cert_id, o.profile, o.replaces"
#define CERT_INSERT_COLS                                                                \
	"id, serial, account_id, order_id, der, chain_pem, not_before, not_after, revoked_at," \
	" reason, names_json, profile"
#define CERT_COLS CERT_INSERT_COLS ", replaced_by, ari_start, ari_end, ari_explanation"

/* Authzs and their challenges in one statement (one snapshot): each authz's
 * rows together, its columns repeated on every row, the challenge columns
 * following in position order, NULL without any. */
#define AUTHZ_WITH_CHALLENGES(where)                                                   \
	"SELECT " AUTHZ_COLS_A ", " CHALLENGE_COLS_C " FROM (SELECT * FROM authzs " where \
	") a LEFT JOIN challenges c ON c.authz_id = a.id ORDER BY a.id, c.pos"

enum stmt_id {
	S_NONCE_USE,
	S_NONCE_USE_ACCOUNT_GET,
	S_NONCE_PURGE,
	S_SECRET_PUT,
	S_SECRET_GET,
	S_ACCOUNT_INSERT,
	S_ACCOUNT_GET,
	S_ACCOUNT_BY_THUMBPRINT,
	S_ACCOUNT_UPDATE,
	S_ACCOUNT_EXISTS,
	S_AUTHZ_INSERT,
	S_CHALLENGES_INSERT,
	S_ORDER_INSERT,
	S_ORDER_AUTHZ_INSERT,
	S_ORDER_GET,
	S_ORDER_SET_STATUS,
	S_ORDER_EXISTS,
	S_ORDERS_FIRST,
	S_ORDERS_AFTER,
	S_ORDER_CURSOR,
	S_AUTHZ_GET,
	S_ORDER_AUTHZS,
	S_AUTHZ_FIND_VALID,
	S_AUTHZ_COUNT_PENDING,
	S_AUTHZ_SET_STATUS,
	S_AUTHZ_EXISTS,
	S_CHALLENGE_GET,
	S_CHALLENGE_WITH_AUTHZ,
	S_CHALLENGE_START,
	S_CHALLENGE_EXISTS,
	S_CHALLENGE_FINISH,
	S_CHALLENGES_CLAIM,
	S_ORDER_START_FINALIZE,
	S_ORDERS_CLAIM,
	S_ORDER_CSR,
	S_LEASE_ACQUIRE,
	S_CERT_INSERT,
	S_CERT_ISSUE,
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
	S_COUNT_ORDERS,
	S_COUNT_CERT_DOMAIN,
	S_CERT_DOMAIN_INSERT,
	S_COUNT_FAILED_VALIDATIONS,
	S_COUNT_ACCOUNTS_IP,
	S_COUNT
};

/* Parameters whose type the server cannot infer from a column carry a cast. */
static const char *const stmt_sql[S_COUNT] = {
	[S_NONCE_USE] = "INSERT INTO used_nonces (value, expires) VALUES ($1, $2)",
	/* one row when the nonce was unused: the account's columns, NULL without one */
	[S_NONCE_USE_ACCOUNT_GET] = "WITH used AS (INSERT INTO used_nonces (value, expires)"
				    " VALUES ($1, $2) RETURNING 1) SELECT " ACCOUNT_COLS
				    " FROM used LEFT JOIN accounts ON accounts.id = $3",
	[S_NONCE_PURGE] = "DELETE FROM used_nonces WHERE expires <= $1",
	[S_SECRET_PUT] = "INSERT INTO secrets (name, value) VALUES ($1, $2)"
			 " ON CONFLICT (name) DO NOTHING",
	[S_SECRET_GET] = "SELECT value FROM secrets WHERE name = $1",
	[S_ACCOUNT_INSERT] = "INSERT INTO accounts (" ACCOUNT_COLS ", created_ip)"
			     " VALUES ($1, $2, $3, COALESCE($4::text, '[]'), $5, $6, $7, $8, $9)",
	[S_ACCOUNT_GET] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE id = $1",
	[S_ACCOUNT_BY_THUMBPRINT] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE thumbprint = $1",
	[S_ACCOUNT_UPDATE] = "UPDATE accounts SET jwk_json = $2, thumbprint = $3,"
			     " contact_json = COALESCE($4::text, '[]'), status = $5, tos_agreed = $6"
			     " WHERE id = $1 AND thumbprint = $7 AND status = $8",
	[S_ACCOUNT_EXISTS] = "SELECT 1 FROM accounts WHERE id = $1",
	[S_COUNT_ORDERS] = "SELECT count(*), min(created) FROM orders WHERE account_id = $1"
			   " AND created > $2",
	[S_COUNT_CERT_DOMAIN] = "SELECT count(*), min(issued) FROM cert_domains WHERE domain = $1"
				" AND issued > $2",
	[S_CERT_DOMAIN_INSERT] = "INSERT INTO cert_domains (domain, cert_id, issued)"
				 " VALUES ($1, $2, $3) ON CONFLICT (domain, issued, cert_id) DO NOTHING",
	[S_COUNT_FAILED_VALIDATIONS] = "SELECT count(*), min(c.validated) FROM authzs a"
				       " JOIN challenges c ON c.authz_id = a.id"
				       " WHERE a.account_id = $1 AND a.ident_type = $2"
				       " AND a.ident_value = $3 AND c.status = 'invalid'"
				       " AND c.validated > $4",
	[S_COUNT_ACCOUNTS_IP] = "SELECT count(*), min(created) FROM accounts WHERE created_ip = $1"
				" AND created > $2",
	[S_AUTHZ_INSERT] = "INSERT INTO authzs (" AUTHZ_COLS ", ins)"
			   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
	/* an authorization's challenges in one statement: arrays of their
	 * fields, zipped by unnest, positions from the arrays' order */
	[S_CHALLENGES_INSERT] = "INSERT INTO challenges (id, authz_id, pos, type, token, status,"
				" validated, error_json, ins)"
				" SELECT c.id, $2, c.pos - 1, c.type, c.token, c.status, c.validated,"
				" c.error_json, $8 FROM unnest($1::text[], $3::text[], $4::text[],"
				" $5::text[], $6::bigint[], $7::text[]) WITH ORDINALITY"
				" AS c(id, type, token, status, validated, error_json, pos)",
	[S_ORDER_INSERT] = "INSERT INTO orders (" ORDER_COLS ", ins)"
			   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
	[S_ORDER_AUTHZ_INSERT] = "INSERT INTO order_authzs (order_id, pos, authz_id)"
				 " VALUES ($1, $2, $3)",
	/* the order and its authz ids in one statement (one snapshot) */
	[S_ORDER_GET] = "SELECT " ORDER_COLS_O ", oa.authz_id FROM orders o"
			" LEFT JOIN order_authzs oa ON oa.order_id = o.id WHERE o.id = $1"
			" ORDER BY oa.pos",
	[S_ORDER_SET_STATUS] = "UPDATE orders SET status = $3,"
			       " error_json = COALESCE($4::text, error_json),"
			       " cert_id = COALESCE($5::text, cert_id) WHERE id = $1 AND status = $2",
	[S_ORDER_EXISTS] = "SELECT 1 FROM orders WHERE id = $1",
	/* keyset paging, oldest first; LIMIT NULL is no limit */
	[S_ORDERS_FIRST] = "SELECT id FROM orders WHERE account_id = $1"
			   " ORDER BY created, ins, id LIMIT $2",
	[S_ORDERS_AFTER] = "SELECT id FROM orders WHERE account_id = $1"
			   " AND (created, ins, id) > ($2::bigint, $3::bigint, $4::text)"
			   " ORDER BY created, ins, id LIMIT $5",
	[S_ORDER_CURSOR] = "SELECT created, ins FROM orders WHERE id = $1 AND account_id = $2",
	[S_AUTHZ_GET] = AUTHZ_WITH_CHALLENGES("WHERE id = $1"),
	[S_ORDER_AUTHZS] = AUTHZ_WITH_CHALLENGES(
		"WHERE id IN (SELECT authz_id FROM order_authzs WHERE order_id = $1)"),
	[S_AUTHZ_COUNT_PENDING] = "SELECT count(*) FROM authzs WHERE account_id = $1"
				  " AND status = 'pending' AND expires > $2",
	[S_AUTHZ_FIND_VALID] = AUTHZ_WITH_CHALLENGES(
		"WHERE account_id = $1 AND ident_type = $2 AND ident_value = $3 AND wildcard = $4"
		" AND status = 'valid' AND expires > $5 ORDER BY expires DESC, ins DESC, id DESC"
		" LIMIT 1"),
	[S_AUTHZ_SET_STATUS] = "UPDATE authzs SET status = $3 WHERE id = $1"
			       " AND ($2::text IS NULL OR status = $2::text)",
	[S_AUTHZ_EXISTS] = "SELECT 1 FROM authzs WHERE id = $1",
	[S_CHALLENGE_GET] = "SELECT " CHALLENGE_COLS " FROM challenges WHERE id = $1",
	/* columns: the challenge 0..6, its authorization 7..14, the account 15..22 */
	[S_CHALLENGE_WITH_AUTHZ] = "SELECT " CHALLENGE_COLS_C ", " AUTHZ_COLS_A ", " ACCOUNT_COLS_T
				       " FROM challenges c JOIN authzs a ON a.id = c.authz_id"
				       " JOIN accounts t ON t.id = a.account_id WHERE c.id = $1",
	[S_CHALLENGE_START] = "UPDATE challenges c SET status = 'processing', claimed_by = $2,"
			      " claim_until = $3 WHERE c.id = $1"
			      " AND c.status = 'pending' AND (SELECT a.status FROM authzs a"
			      " WHERE a.id = c.authz_id) = 'pending'",
	[S_CHALLENGE_EXISTS] = "SELECT 1 FROM challenges WHERE id = $1",
	/* The challenge and its authorization in one statement (one round
	 * trip, atomic on its own); an authorization no longer pending
	 * (deactivated meanwhile) keeps its status. A row when the challenge
	 * was processing. */
	[S_CHALLENGE_FINISH] = "WITH c AS (UPDATE challenges SET status = $2, validated = $3,"
			       " error_json = $4 WHERE id = $1 AND status = 'processing'"
			       " RETURNING authz_id),"
			       " a AS (UPDATE authzs SET status = $2::text,"
			       " expires = CASE WHEN $2::text = 'valid' THEN $5::bigint"
			       " ELSE expires END"
			       " WHERE id = (SELECT authz_id FROM c) AND status = 'pending')"
			       " SELECT authz_id FROM c",
	/* The conditions again outside the subquery: under READ COMMITTED a row
	 * another node claimed meanwhile is re-read and then fails them. */
	[S_CHALLENGES_CLAIM] = "UPDATE challenges SET claimed_by = $1, claim_until = $3"
			       " WHERE id IN (SELECT id FROM challenges WHERE status = 'processing'"
			       " AND (claim_until <= $2 OR ($4::bigint <> 0 AND claimed_by = $1))"
			       " ORDER BY claim_until, id LIMIT $5)"
			       " AND status = 'processing'"
			       " AND (claim_until <= $2 OR ($4::bigint <> 0 AND claimed_by = $1))"
			       " RETURNING id",
	/* only a ready order: not expired, every authorization valid and unexpired */
	[S_ORDER_START_FINALIZE] = "UPDATE orders SET status = 'processing', csr = $2,"
				   " claimed_by = $3, claim_until = $4 WHERE id = $1 AND status = 'pending'"
				   " AND expires > $5 AND NOT EXISTS (SELECT 1 FROM order_authzs oa"
				   " JOIN authzs a ON a.id = oa.authz_id WHERE oa.order_id = $1"
				   " AND (a.status <> 'valid' OR a.expires <= $5))",
	[S_ORDERS_CLAIM] = "UPDATE orders SET claimed_by = $1, claim_until = $3"
			   " WHERE id IN (SELECT id FROM orders WHERE status = 'processing'"
			   " AND (claim_until <= $2 OR ($4::bigint <> 0 AND claimed_by = $1))"
			   " ORDER BY claim_until, id LIMIT $5)"
			   " AND status = 'processing'"
			   " AND (claim_until <= $2 OR ($4::bigint <> 0 AND claimed_by = $1))"
			   " RETURNING id",
	[S_ORDER_CSR] = "SELECT csr FROM orders WHERE id = $1 AND csr IS NOT NULL",
	/* taken when absent or expired; a live lease, even the caller's, is not */
	[S_LEASE_ACQUIRE] = "INSERT INTO leases (name, holder, until) VALUES ($1, $2, $4)"
			    " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
			    " until = excluded.until WHERE leases.until <= $3",
	[S_CERT_INSERT] = "INSERT INTO certificates (" CERT_INSERT_COLS ", ins)"
			  " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
	/* cert_issue: the order's move to valid decides whether the certificate
	 * and its rate domains ($14, a text array) are written, in one
	 * statement; the row count is the certificate's */
	[S_CERT_ISSUE] = "WITH o AS (UPDATE orders SET status = 'valid', cert_id = $1"
			 " WHERE id = $4 AND status = 'processing' RETURNING id),"
			 " d AS (INSERT INTO cert_domains (domain, cert_id, issued)"
			 " SELECT x, $1, $7 FROM o, unnest($14::text[]) AS x"
			 " ON CONFLICT (domain, issued, cert_id) DO NOTHING)"
			 " INSERT INTO certificates (" CERT_INSERT_COLS ", ins)"
			 " SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 FROM o",
	[S_CERT_GET] = "SELECT " CERT_COLS " FROM certificates WHERE id = $1",
	[S_CERT_BY_SERIAL] = "SELECT " CERT_COLS " FROM certificates WHERE serial = $1",
	[S_CERT_REVOKE] = "UPDATE certificates SET revoked_at = $2, reason = $3"
			  " WHERE id = $1 AND revoked_at = 0",
	[S_CERT_EXISTS] = "SELECT 1 FROM certificates WHERE id = $1",
	[S_CERTS_REVOKED] = "SELECT " CERT_COLS " FROM certificates"
			    " WHERE revoked_at <> 0 AND not_after > $1 ORDER BY revoked_at, ins, id",
	[S_CERT_CLAIM] = "UPDATE certificates SET replaced_by = $2 WHERE id = $1"
			 " AND replaced_by IS NOT DISTINCT FROM $3::text",
	[S_CERTS_SET_ARI] = "UPDATE certificates SET ari_start = $2, ari_end = $3,"
			    " ari_explanation = $4 WHERE not_after > $1"
			    " AND ($5::text IS NULL OR serial = $5::text)"
			    " AND ($6::text IS NULL OR account_id = $6::text)",
	[S_EAB_INSERT] = "INSERT INTO eab_keys (" EAB_COLS ", ins)"
			 " VALUES ($1, $2, $3, $4, NULL, 0, $5)",
	[S_EAB_GET] = "SELECT " EAB_COLS " FROM eab_keys WHERE kid = $1",
	[S_EAB_LIST] = "SELECT " EAB_COLS " FROM eab_keys ORDER BY ins, kid",
	[S_EAB_REMOVE] = "DELETE FROM eab_keys WHERE kid = $1",
	/* the one-use compare-and-set */
	[S_EAB_CLAIM] = "UPDATE eab_keys SET account_id = $2, used = $3"
			" WHERE kid = $1 AND account_id IS NULL",
	[S_EAB_EXISTS] = "SELECT 1 FROM eab_keys WHERE kid = $1",
};

/* The parameters of the reads that bind more than an id and a time: the
 * same for the call and for the read named ahead (pg_read_ahead) */
#define FIND_VALID_ARGS(account, type, value, wildcard, min_expires) \
	ARGS(TEXT(account), TEXT(type), TEXT(value), I64(wildcard), I64(min_expires))
#define FAILED_ARGS(account, type, value, since) \
	ARGS(TEXT(account), TEXT(type), TEXT(value), I64(since))

#define AHEAD_MAX FLINT_STORE_AHEAD_MAX
#define AHEAD_PARAMS 5 /* the most a read named ahead binds */

/* A read named ahead: its statement and parameters (their texts owned),
 * then its answer. */
struct ahead_read {
	enum stmt_id id;
	size_t n;
	struct param p[AHEAD_PARAMS];
	char *text[AHEAD_PARAMS];
	PGresult *res; /* once sent; NULL again when handed out */
	bool taken;
};

struct pg_store {
	struct flint_store base; /* first: callers dispatch through base.ops */
	PGconn *conn;
	bool prepared[S_COUNT]; /* PQprepare'd on this connection (named "s<id>") */
	bool retry; /* the last failure was a serialization failure or deadlock */
	/* in in_batch: statements are sent (pipeline mode), not waited for */
	bool batching;
	size_t batch_sent; /* statements sent in this batch */
	/* read_ahead: reads that go out with the next statement, then their
	 * answers, for the calls that make exactly those reads */
	struct {
		struct ahead_read read[AHEAD_MAX];
		size_t n;    /* 0: none */
		size_t left; /* answers not handed out yet */
		bool sent;   /* read[].res hold the answers */
	} ahead;
};

static struct pg_store *pg(struct flint_store *st)
{
	return (struct pg_store *)st;
}

/* The creation-order key of a new row: microseconds on this node's clock. */
static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The outcome of a statement; res NULL means libpq could not even send it. */
static int map_result(const PGresult *res)
{
	const char *state;

	switch (res ? PQresultStatus(res) : PGRES_FATAL_ERROR) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
		return 0;
	default:
		break;
	}
	state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (!state)
		return FLINT_EIO;
	if (strcmp(state, "23505") == 0) /* unique_violation */
		return FLINT_ECONFLICT;
	if (strcmp(state, "23503") == 0) /* foreign_key_violation: refers to nothing */
		return FLINT_ENOTFOUND;
	if (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0)
		return FLINT_EINVAL; /* NOT NULL and friends, malformed data */
	if (strcmp(state, "54000") == 0) /* program_limit_exceeded */
		return FLINT_ETOOBIG;
	if (strcmp(state, "53200") == 0) /* out_of_memory */
		return FLINT_ENOMEM;
	return FLINT_EIO;
}

/* After a failure: a broken connection is re-established for the next call
 * (this one has failed already); its prepared statements died with it. */
static void check_conn(struct pg_store *p)
{
	if (PQstatus(p->conn) != CONNECTION_BAD)
		return;
	PQreset(p->conn);
	memset(p->prepared, 0, sizeof(p->prepared));
}

/* Serialization failures (SERIALIZABLE databases such as distributed ones
 * report them where PostgreSQL's READ COMMITTED waits) and deadlocks: the
 * transaction may simply run again. */
static bool is_retryable(const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0);
}

#define MAX_ATTEMPTS 5

/* Sleeps a little more before each new attempt, so contenders spread out. */
static void backoff(int attempt)
{
	usleep((useconds_t)(1000 << attempt) + (useconds_t)(now_us() % 1000));
}

/* Runs SQL without parameters (transaction control, migrations). */
static int exec_simple(struct pg_store *p, const char *sql)
{
	PGresult *res = PQexec(p->conn, sql);
	int err = map_result(res);

	p->retry = err < 0 && is_retryable(res);
	PQclear(res);
	if (err < 0)
		check_conn(p);
	return err;
}

#define MAX_PARAMS 16

/* Prepares statement id on the connection (named "s<id>"), once. */
static int prepare(struct pg_store *q, enum stmt_id id)
{
	char name[16];
	PGresult *res;
	int err;

	if (q->prepared[id])
		return 0;
	snprintf(name, sizeof(name), "s%d", (int)id);
	res = PQprepare(q->conn, name, stmt_sql[id], 0, NULL);
	err = map_result(res);
	PQclear(res);
	if (err < 0) {
		check_conn(q);
		return err;
	}
	q->prepared[id] = true;
	return 0;
}

static void ahead_drop(struct pg_store *q)
{
	for (size_t i = 0; i < q->ahead.n; i++) {
		struct ahead_read *a = &q->ahead.read[i];

		for (size_t k = 0; k < a->n; k++)
			free(a->text[k]);
		PQclear(a->res);
	}
	memset(&q->ahead, 0, sizeof(q->ahead));
}

/* Names the read of statement id with p[0..n) ahead (a copy); false when
 * out of memory. Past AHEAD_MAX reads, the rest are not named. */
static bool ahead_add(struct pg_store *q, enum stmt_id id, const struct param *p, size_t n)
{
	struct ahead_read *a;

	if (q->ahead.n == AHEAD_MAX || n > AHEAD_PARAMS)
		return true;
	a = &q->ahead.read[q->ahead.n++]; /* zeroed: ahead_drop frees what it holds */
	a->id = id;
	a->n = n;
	for (size_t k = 0; k < n; k++) {
		a->p[k] = p[k];
		if (p[k].kind == P_BLOB)
			return false; /* no read binds one */
		if (p[k].kind == P_TEXT && p[k].text && !(a->text[k] = strdup(p[k].text)))
			return false;
		if (p[k].kind == P_TEXT)
			a->p[k].text = a->text[k];
	}
	return true;
}

static bool param_same(const struct param *a, const struct param *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == P_I64)
		return a->i64 == b->i64;
	if (a->kind == P_TEXT)
		return a->text && b->text ? strcmp(a->text, b->text) == 0 : a->text == b->text;
	return false; /* blobs are never read ahead */
}

/* The read named ahead, not handed out yet, that the statement about to run
 * is; -1 when none. */
static int ahead_find(const struct pg_store *q, enum stmt_id id, const struct param *p, size_t n)
{
	for (size_t i = 0; i < q->ahead.n; i++) {
		const struct ahead_read *a = &q->ahead.read[i];
		size_t k = 0;

		if (a->taken || a->id != id || a->n != n)
			continue;
		while (k < n && param_same(&a->p[k], &p[k]))
			k++;
		if (k == n)
			return (int)i;
	}
	return -1;
}

/* The answer of read i, handed out once; the last one forgets them all. */
static PGresult *ahead_take(struct pg_store *q, size_t i)
{
	PGresult *res = q->ahead.read[i].res;

	q->ahead.read[i].res = NULL;
	q->ahead.read[i].taken = true;
	if (--q->ahead.left == 0)
		ahead_drop(q);
	return res;
}

/* The statements that only read: the reads named ahead stay past them.
 * Any other (and any added without a place here) forgets them. */
static const bool stmt_reads_only[S_COUNT] = {
	[S_SECRET_GET] = true,
	[S_ACCOUNT_GET] = true,
	[S_ACCOUNT_BY_THUMBPRINT] = true,
	[S_ACCOUNT_EXISTS] = true,
	[S_COUNT_ORDERS] = true,
	[S_COUNT_CERT_DOMAIN] = true,
	[S_COUNT_FAILED_VALIDATIONS] = true,
	[S_COUNT_ACCOUNTS_IP] = true,
	[S_ORDER_GET] = true,
	[S_ORDER_EXISTS] = true,
	[S_ORDERS_FIRST] = true,
	[S_ORDERS_AFTER] = true,
	[S_ORDER_CURSOR] = true,
	[S_AUTHZ_GET] = true,
	[S_ORDER_AUTHZS] = true,
	[S_AUTHZ_COUNT_PENDING] = true,
	[S_AUTHZ_FIND_VALID] = true,
	[S_AUTHZ_EXISTS] = true,
	[S_CHALLENGE_GET] = true,
	[S_CHALLENGE_WITH_AUTHZ] = true,
	[S_CHALLENGE_EXISTS] = true,
	[S_ORDER_CSR] = true,
	[S_CERT_GET] = true,
	[S_CERT_BY_SERIAL] = true,
	[S_CERT_EXISTS] = true,
	[S_CERTS_REVOKED] = true,
	[S_EAB_GET] = true,
	[S_EAB_LIST] = true,
	[S_EAB_EXISTS] = true,
};

/* values, lengths and formats binding p[0..n): integers as text (in nums),
 * BYTEA in binary. FLINT_ETOOBIG for a blob libpq cannot take. */
static int bind_params(const struct param *p, size_t n, const char **values, int *lengths,
		       int *formats, char (*nums)[24])
{
	for (size_t i = 0; i < n; i++) {
		lengths[i] = 0;
		formats[i] = 0;
		switch (p[i].kind) {
		case P_TEXT:
			values[i] = p[i].text;
			break;
		case P_I64:
			snprintf(nums[i], sizeof(nums[i]), "%" PRId64, p[i].i64);
			values[i] = nums[i];
			break;
		case P_BLOB:
			if (p[i].blob && p[i].len > (size_t)INT32_MAX)
				return FLINT_ETOOBIG;
			values[i] = p[i].blob;
			lengths[i] = (int)p[i].len;
			formats[i] = 1;
			break;
		}
	}
	return 0;
}

/* Reads what a pipeline still holds up to its sync (sending the sync first
 * when synced is false) and leaves pipeline mode; a connection libpq will not
 * take out of it is reset, or it would refuse every later statement.
 * FLINT_EIO when anything but the sync came (a result nobody read, or a
 * commit's failure, which arrives just before the sync) or the sync never
 * did. */
static int pipeline_leave(struct pg_store *q, bool synced)
{
	bool sync_seen = false, other = false;
	int nulls = 0;

	if (synced || PQpipelineSync(q->conn) == 1) {
		/* one NULL ends each statement's results: two in a row mean
		 * nothing more is coming */
		while (!sync_seen && nulls < 2) {
			PGresult *r = PQgetResult(q->conn);

			if (!r) {
				if (PQstatus(q->conn) == CONNECTION_BAD)
					break;
				nulls++;
				continue;
			}
			nulls = 0;
			if (PQresultStatus(r) == PGRES_PIPELINE_SYNC)
				sync_seen = true;
			else
				other = true;
			PQclear(r);
		}
	}
	if (PQexitPipelineMode(q->conn) != 1) {
		PQreset(q->conn);
		memset(q->prepared, 0, sizeof(q->prepared));
		return FLINT_EIO;
	}
	return sync_seen && !other ? 0 : FLINT_EIO;
}

/* Sends the statement `name` and the reads ahead in one pipeline: one round
 * trip for all. The server runs them as one implicit transaction, so when
 * any fails none took effect. When the statement itself failed (a used
 * nonce) its error is the answer, as it would be alone; when a read failed,
 * the statement meets a serialization failure or the pipeline broke,
 * FLINT_EAGAIN, and the caller runs its statement alone (the reads are
 * forgotten). */
#define FLINT_EAGAIN 1
static int run_with_ahead(struct pg_store *q, const char *name, int n, const char *const *values,
			  const int *lengths, const int *formats, PGresult **ret)
{
	PGresult *res[1 + AHEAD_MAX] = {NULL};
	size_t total = 1 + q->ahead.n;
	bool synced = false, ok = true;

	/* prepared first: PQprepare waits for its answer, which pipeline mode forbids */
	for (size_t i = 0; ok && i < q->ahead.n; i++)
		ok = prepare(q, q->ahead.read[i].id) == 0;
	if (!ok || PQenterPipelineMode(q->conn) != 1)
		return FLINT_EAGAIN;
	ok = PQsendQueryPrepared(q->conn, name, n, values, lengths, formats, 1) == 1;
	for (size_t i = 0; ok && i < q->ahead.n; i++) {
		const struct ahead_read *a = &q->ahead.read[i];
		const char *a_values[AHEAD_PARAMS];
		int a_lengths[AHEAD_PARAMS], a_formats[AHEAD_PARAMS];
		char a_nums[AHEAD_PARAMS][24], a_name[16];

		snprintf(a_name, sizeof(a_name), "s%d", (int)a->id);
		ok = bind_params(a->p, a->n, a_values, a_lengths, a_formats, a_nums) == 0 &&
		     PQsendQueryPrepared(q->conn, a_name, (int)a->n, a_values, a_lengths,
					 a_formats, 1) == 1;
	}
	if (ok && PQpipelineSync(q->conn) == 1) {
		synced = true;
		/* each statement's result, then the NULL that ends it */
		for (size_t i = 0; ok && i < total; i++) {
			PGresult *end = NULL;

			res[i] = PQgetResult(q->conn);
			if (!res[i] || (end = PQgetResult(q->conn)) != NULL)
				ok = false; /* none, or more than one: pipeline_leave reads on */
			PQclear(end);
		}
	} else {
		ok = false;
	}
	/* the sync, or a commit's failure before it */
	if (pipeline_leave(q, synced) < 0)
		ok = false;
	if (ok && map_result(res[0]) < 0 && !is_retryable(res[0])) {
		int err = map_result(res[0]);

		for (size_t i = 0; i < total; i++)
			PQclear(res[i]);
		q->retry = false;
		return err;
	}
	for (size_t i = 0; ok && i < total; i++)
		ok = map_result(res[i]) == 0;
	if (!ok) {
		for (size_t i = 0; i < total; i++)
			PQclear(res[i]);
		check_conn(q);
		return FLINT_EAGAIN;
	}
	*ret = res[0];
	for (size_t i = 0; i < q->ahead.n; i++)
		q->ahead.read[i].res = res[1 + i];
	q->ahead.left = q->ahead.n;
	q->ahead.sent = true;
	return 0;
}

/* Runs the prepared statement id with p[0..n): integers travel as text, BYTEA
 * in binary; every result column comes back in binary (text as its bytes,
 * BIGINT as 8 bytes in network order). *ret for the caller to PQclear.
 * In a batch (in_batch) the statement is only sent, *ret is NULL. */
static int run(struct pg_store *q, enum stmt_id id, const struct param *p, size_t n,
	       PGresult **ret)
{
	const char *values[MAX_PARAMS];
	int lengths[MAX_PARAMS], formats[MAX_PARAMS];
	char nums[MAX_PARAMS][24], name[16];
	PGresult *res;
	bool alone;
	int err;

	if (n > MAX_PARAMS)
		return FLINT_EINVAL;
	if (q->ahead.sent) {
		int i = ahead_find(q, id, p, n);

		/* never inside a transaction or batch: the row was read before it began */
		if (i >= 0 && !q->batching && PQtransactionStatus(q->conn) == PQTRANS_IDLE) {
			*ret = ahead_take(q, (size_t)i);
			return 0;
		}
		if (i >= 0 || !stmt_reads_only[id]) /* after a write, what was read may be stale */
			ahead_drop(q);
	}
	snprintf(name, sizeof(name), "s%d", (int)id);
	if (q->batching && !q->prepared[id])
		return FLINT_EINVAL; /* in_batch prepares what a batch uses first */
	if ((err = prepare(q, id)) < 0)
		return err;
	if ((err = bind_params(p, n, values, lengths, formats, nums)) < 0)
		return err;
	if (q->batching) {
		if (PQsendQueryPrepared(q->conn, name, (int)n, values, lengths, formats, 1) != 1)
			return FLINT_EIO;
		q->batch_sent++;
		*ret = NULL;
		return 0;
	}
	/* A statement of its own (no transaction open) is retried here; one in
	 * a transaction fails it, and in_tx runs the transaction again. */
	alone = PQtransactionStatus(q->conn) == PQTRANS_IDLE;
	if (q->ahead.n > 0 && !q->ahead.sent) {
		/* the reads ahead go with this statement, or not at all */
		if (alone && ahead_find(q, id, p, n) < 0 &&
		    (err = run_with_ahead(q, name, (int)n, values, lengths, formats, ret)) <= 0) {
			if (err < 0)
				ahead_drop(q);
			return err;
		}
		ahead_drop(q);
		if ((err = prepare(q, id)) < 0) /* again, if the failure reset the connection */
			return err;
	}
	for (int attempt = 0;; attempt++) {
		res = PQexecPrepared(q->conn, name, (int)n, values, lengths, formats, 1);
		err = map_result(res);
		q->retry = err < 0 && is_retryable(res);
		if (!q->retry || !alone || attempt + 1 >= MAX_ATTEMPTS)
			break;
		PQclear(res);
		backoff(attempt);
	}
	if (err < 0) {
		PQclear(res);
		check_conn(q);
		return err;
	}
	*ret = res;
	return 0;
}

/* Runs a statement whose rows (if any) nobody reads. */
static int exec(struct pg_store *q, enum stmt_id id, const struct param *p, size_t n)
{
	PGresult *res = NULL;
	int err = run(q, id, p, n, &res);

	PQclear(res);
	return err;
}

/* How many rows the INSERT/UPDATE/DELETE in res changed. */
static size_t changes(const PGresult *res)
{
	return (size_t)strtoull(PQcmdTuples((PGresult *)res), NULL, 10);
}

/* Runs a statement and keeps its result only when it has a row. */
static int select_rows(struct pg_store *q, enum stmt_id id, const struct param *p, size_t n,
		       PGresult **ret)
{
	PGresult *res = NULL;
	int err = run(q, id, p, n, &res);

	if (err < 0)
		return err;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return FLINT_ENOTFOUND;
	}
	*ret = res;
	return 0;
}

#define NO_PROBE S_COUNT

/* Runs a guarded UPDATE or DELETE of the row keyed by $1 = key. When it
 * changed nothing: FLINT_ENOTFOUND, or with a probe statement for that key,
 * FLINT_ENOTFOUND when the row is missing and FLINT_ECONFLICT when it exists
 * but failed the precondition. */
static int update(struct pg_store *q, enum stmt_id id, const struct param *p, size_t n,
		  enum stmt_id probe, const char *key)
{
	PGresult *res = NULL, *row = NULL;
	int err;

	err = run(q, id, p, n, &res);
	if (err == 0 && changes(res) == 0) {
		err = probe == NO_PROBE ? FLINT_ENOTFOUND
					: select_rows(q, probe, ARGS(TEXT(key)), &row);
		if (err == 0)
			err = FLINT_ECONFLICT; /* the row is there: the precondition failed */
		PQclear(row);
	}
	PQclear(res);
	return err;
}

static int tx_begin(struct pg_store *q)
{
	ahead_drop(q); /* a read ahead is for a statement of its own */
	return exec_simple(q, "BEGIN");
}

/* Commits, or rolls back when err (or the commit) failed; returns the outcome. */
static int tx_end(struct pg_store *q, int err)
{
	if (err == 0)
		err = exec_simple(q, "COMMIT");
	if (err < 0 && PQtransactionStatus(q->conn) != PQTRANS_IDLE)
		(void)exec_simple(q, "ROLLBACK");
	return err;
}

/* Runs body(q, arg) in a transaction, again (a few times) when the
 * transaction failed on a serialization failure or deadlock. */
static int in_tx(struct pg_store *q, int (*body)(struct pg_store *q, const void *arg),
		 const void *arg)
{
	int err;

	for (int attempt = 0;; attempt++) {
		q->retry = false;
		err = tx_begin(q);
		if (err == 0)
			err = body(q, arg);
		if (err < 0 && q->retry && attempt + 1 < MAX_ATTEMPTS) {
			(void)tx_end(q, err);
			backoff(attempt);
			continue;
		}
		err = tx_end(q, err);
		if (err == 0 || !q->retry || attempt + 1 >= MAX_ATTEMPTS)
			return err;
		backoff(attempt); /* the COMMIT itself failed to serialize */
	}
}

/* The results of the statements a batch sent, up to its sync: the first
 * failure, if any (the server skipped the rest and rolled them all back). */
static int batch_results(struct pg_store *q)
{
	size_t ended = 0;
	int err = 0;

	while (ended < q->batch_sent) {
		PGresult *res = PQgetResult(q->conn);

		if (!res) { /* the end of one statement's results */
			ended++;
			if (PQstatus(q->conn) == CONNECTION_BAD)
				return FLINT_EIO;
			continue;
		}
		if (err == 0 && PQresultStatus(res) != PGRES_PIPELINE_ABORTED &&
		    (err = map_result(res)) < 0)
			q->retry = is_retryable(res);
		PQclear(res);
	}
	PGresult *sync = PQgetResult(q->conn);

	if (!sync || PQresultStatus(sync) != PGRES_PIPELINE_SYNC) {
		/* the implicit transaction's commit failed (the sync comes after) */
		if (err == 0)
			q->retry = is_retryable(sync);
		err = err < 0 ? err : FLINT_EIO;
	}
	PQclear(sync);
	return err;
}

/* Runs body(q, arg), which may only exec() the statements uses[0..n) and
 * reads no result, as one transaction in one round trip: pipeline mode
 * sends every statement and then a sync; the server runs them as one
 * implicit transaction, committed at the sync, or rolled back entirely at
 * the first failure. Again (a few times) after a serialization failure or
 * deadlock, as in_tx. */
static int in_batch(struct pg_store *q, int (*body)(struct pg_store *q, const void *arg),
		    const void *arg, const enum stmt_id *uses, size_t n_uses)
{
	int err = 0;

	ahead_drop(q); /* a batch writes: what was read ahead may be stale */
	for (size_t i = 0; i < n_uses && err == 0; i++)
		err = prepare(q, uses[i]);
	for (int attempt = 0; err == 0; attempt++) {
		if (PQenterPipelineMode(q->conn) != 1)
			return FLINT_EIO;
		q->batching = true;
		q->batch_sent = 0;
		q->retry = false;
		err = body(q, arg);
		q->batching = false;
		bool synced = PQpipelineSync(q->conn) == 1;
		if (!synced) {
			err = FLINT_EIO;
		} else {
			int sent_err = err;

			err = batch_results(q);
			if (err == 0)
				err = sent_err;
		}
		/* results left unread (after a failed commit, the sync) */
		if (PQexitPipelineMode(q->conn) != 1 && pipeline_leave(q, synced) < 0 && err == 0)
			err = FLINT_EIO;
		if (err < 0)
			check_conn(q);
		if (err == 0 || !q->retry || attempt + 1 >= MAX_ATTEMPTS)
			break;
		backoff(attempt);
		err = 0;
	}
	return err;
}

/* Column readers of a binary result. */
static int col_str(const PGresult *res, int row, int col, char **ret)
{
	char *d;

	if (PQgetisnull(res, row, col)) {
		*ret = NULL;
		return 0;
	}
	d = strndup(PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col));
	if (!d)
		return FLINT_ENOMEM;
	*ret = d;
	return 0;
}

/* BIGINT (or INTEGER) column; NULL reads as 0, like sqlite3_column_int64. */
static int64_t col_i64(const PGresult *res, int row, int col)
{
	const unsigned char *v = (const unsigned char *)PQgetvalue(res, row, col);
	int len = PQgetlength(res, row, col);
	uint64_t u = 0;

	if (PQgetisnull(res, row, col) || (len != 8 && len != 4))
		return 0;
	for (int i = 0; i < len; i++)
		u = (u << 8) | v[i];
	if (len == 4)
		return (int32_t)(uint32_t)u;
	return (int64_t)u;
}

/* A BYTEA column copied out; *ret NULL when empty or NULL. */
static int col_bytes(const PGresult *res, int row, int col, unsigned char **ret, size_t *ret_len)
{
	int len = PQgetlength(res, row, col);

	*ret = NULL;
	*ret_len = 0;
	if (PQgetisnull(res, row, col) || len <= 0)
		return 0;
	*ret = malloc((size_t)len);
	if (!*ret)
		return FLINT_ENOMEM;
	memcpy(*ret, PQgetvalue(res, row, col), (size_t)len);
	*ret_len = (size_t)len;
	return 0;
}

/* Every row's column 0 as a string list (NULL when none). */
static int read_ids(const PGresult *res, int from, int n, char ***ret, size_t *ret_n)
{
	char **ids = NULL;
	int err = 0, i;

	if (n > 0 && !(ids = calloc((size_t)n, sizeof(*ids))))
		return FLINT_ENOMEM;
	for (i = 0; i < n && err == 0; i++) {
		err = col_str(res, from + i, 0, &ids[i]);
		if (err == 0 && !ids[i])
			err = FLINT_EIO;
	}
	if (err < 0) {
		flint_string_list_free(ids, (size_t)n);
		return err;
	}
	*ret = ids;
	*ret_n = (size_t)n;
	return 0;
}

/* struct flint_challenge from columns at..at+6, filled in place. */
static int read_challenge(const PGresult *res, int row, int at, struct flint_challenge *c)
{
	int err;

	memset(c, 0, sizeof(*c));
	if ((err = col_str(res, row, at, &c->id)) < 0 ||
	    (err = col_str(res, row, at + 1, &c->authz_id)) < 0 ||
	    (err = col_str(res, row, at + 2, &c->type)) < 0 ||
	    (err = col_str(res, row, at + 3, &c->token)) < 0 ||
	    (err = col_str(res, row, at + 4, &c->status)) < 0 ||
	    (err = col_str(res, row, at + 6, &c->error_json)) < 0) {
		flint_challenge_clear(c);
		return err;
	}
	c->validated = col_i64(res, row, at + 5);
	return 0;
}

/* The ACCOUNT_COLS of row 0 from column at on. */
static int read_account_at(const PGresult *res, int at, struct flint_account **ret)
{
	struct flint_account *a;
	int err;

	a = calloc(1, sizeof(*a));
	if (!a)
		return FLINT_ENOMEM;
	if ((err = col_str(res, 0, at, &a->id)) < 0 ||
	    (err = col_str(res, 0, at + 1, &a->jwk_json)) < 0 ||
	    (err = col_str(res, 0, at + 2, &a->thumbprint)) < 0 ||
	    (err = col_str(res, 0, at + 3, &a->contact_json)) < 0 ||
	    (err = col_str(res, 0, at + 4, &a->status)) < 0 ||
	    (err = col_str(res, 0, at + 7, &a->eab_json)) < 0)
		goto out;
	a->tos_agreed = col_i64(res, 0, at + 5) != 0;
	a->created = col_i64(res, 0, at + 6);
	*ret = a;
	a = NULL;
out:
	flint_account_free(a);
	return err;
}

static int read_account(const PGresult *res, struct flint_account **ret)
{
	return read_account_at(res, 0, ret);
}

/* The AUTHZ_COLS of row from column at on, into a (no challenges). */
static int read_authz_row(const PGresult *res, int row, int at, struct flint_authz *a)
{
	int err;

	if ((err = col_str(res, row, at, &a->id)) < 0 ||
	    (err = col_str(res, row, at + 1, &a->account_id)) < 0 ||
	    (err = col_str(res, row, at + 2, &a->ident_type)) < 0 ||
	    (err = col_str(res, row, at + 3, &a->ident_value)) < 0 ||
	    (err = col_str(res, row, at + 5, &a->status)) < 0)
		return err;
	a->wildcard = col_i64(res, row, at + 4) != 0;
	a->expires = col_i64(res, row, at + 6);
	a->created = col_i64(res, row, at + 7);
	return 0;
}

/* One authz of an AUTHZ_WITH_CHALLENGES-shaped result: its fields from row
 * first, a challenge per row up to end. */
static int read_authz_rows(const PGresult *res, int first, int end, struct flint_authz **ret)
{
	struct flint_authz *a;
	int err;

	a = calloc(1, sizeof(*a));
	if (!a)
		return FLINT_ENOMEM;
	if ((err = read_authz_row(res, first, 0, a)) < 0)
		goto out;
	if (!PQgetisnull(res, first, 8)) {
		a->challenges = calloc((size_t)(end - first), sizeof(*a->challenges));
		if (!a->challenges) {
			err = FLINT_ENOMEM;
			goto out;
		}
		for (int i = first; i < end; i++) {
			err = read_challenge(res, i, 8, &a->challenges[i - first]);
			if (err < 0)
				goto out;
			a->n_challenges++;
		}
	}
	*ret = a;
	a = NULL;
out:
	flint_authz_free(a);
	return err;
}

/* An AUTHZ_WITH_CHALLENGES result: the authz from row 0, a challenge per row. */
static int read_authz(const PGresult *res, struct flint_authz **ret)
{
	return read_authz_rows(res, 0, PQntuples(res), ret);
}

/* An S_ORDER_GET result: the order from row 0, an authz id per row. */
static int read_order(const PGresult *res, struct flint_order **ret)
{
	struct flint_order *o;
	int rows = PQntuples(res), err;

	o = calloc(1, sizeof(*o));
	if (!o)
		return FLINT_ENOMEM;
	if ((err = col_str(res, 0, 0, &o->id)) < 0 || (err = col_str(res, 0, 1, &o->account_id)) < 0 ||
	    (err = col_str(res, 0, 2, &o->status)) < 0 ||
	    (err = col_str(res, 0, 7, &o->identifiers_json)) < 0 ||
	    (err = col_str(res, 0, 8, &o->error_json)) < 0 ||
	    (err = col_str(res, 0, 9, &o->cert_id)) < 0 ||
	    (err = col_str(res, 0, 10, &o->profile)) < 0 ||
	    (err = col_str(res, 0, 11, &o->replaces)) < 0)
		goto out;
	o->expires = col_i64(res, 0, 3);
	o->not_before = col_i64(res, 0, 4);
	o->not_after = col_i64(res, 0, 5);
	o->created = col_i64(res, 0, 6);
	if (!PQgetisnull(res, 0, 12)) {
		o->authz_ids = calloc((size_t)rows, sizeof(*o->authz_ids));
		if (!o->authz_ids) {
			err = FLINT_ENOMEM;
			goto out;
		}
		for (int i = 0; i < rows; i++) {
			err = col_str(res, i, 12, &o->authz_ids[i]);
			if (err < 0)
				goto out;
			o->n_authz++;
		}
	}
	*ret = o;
	o = NULL;
out:
	flint_order_free(o);
	return err;
}

static int read_cert(const PGresult *res, int row, struct flint_cert **ret)
{
	struct flint_cert *c;
	int err;

	c = calloc(1, sizeof(*c));
	if (!c)
		return FLINT_ENOMEM;
	if ((err = col_str(res, row, 0, &c->id)) < 0 ||
	    (err = col_str(res, row, 1, &c->serial)) < 0 ||
	    (err = col_str(res, row, 2, &c->account_id)) < 0 ||
	    (err = col_str(res, row, 3, &c->order_id)) < 0 ||
	    (err = col_bytes(res, row, 4, &c->der, &c->der_len)) < 0 ||
	    (err = col_str(res, row, 5, &c->chain_pem)) < 0 ||
	    (err = col_str(res, row, 10, &c->names_json)) < 0 ||
	    (err = col_str(res, row, 11, &c->profile)) < 0 ||
	    (err = col_str(res, row, 12, &c->replaced_by)) < 0 ||
	    (err = col_str(res, row, 15, &c->ari_explanation)) < 0)
		goto out;
	c->not_before = col_i64(res, row, 6);
	c->not_after = col_i64(res, row, 7);
	c->revoked_at = col_i64(res, row, 8);
	c->reason = (int)col_i64(res, row, 9);
	c->ari_start = col_i64(res, row, 13);
	c->ari_end = col_i64(res, row, 14);
	*ret = c;
	c = NULL;
out:
	flint_cert_free(c);
	return err;
}

static int read_eab(const PGresult *res, int row, struct flint_eab_key **ret)
{
	struct flint_eab_key *k;
	int err;

	k = calloc(1, sizeof(*k));
	if (!k)
		return FLINT_ENOMEM;
	if ((err = col_str(res, row, 0, &k->kid)) < 0 || (err = col_str(res, row, 1, &k->alg)) < 0 ||
	    (err = col_str(res, row, 4, &k->account_id)) < 0 ||
	    (err = col_bytes(res, row, 2, &k->hmac_key, &k->hmac_key_len)) < 0)
		goto out;
	err = FLINT_EIO;
	if (!k->kid || !k->alg || !k->hmac_key)
		goto out;
	k->created = col_i64(res, row, 3);
	k->used = col_i64(res, row, 5);
	*ret = k;
	k = NULL;
	err = 0;
out:
	flint_eab_key_free(k);
	return err;
}

static void pg_close(struct flint_store *st)
{
	struct pg_store *q = pg(st);

	if (!q)
		return;
	ahead_drop(q);
	PQfinish(q->conn);
	free(q);
}

/* Creates the schema_version row once. Concurrent first CREATE TABLE IF NOT
 * EXISTS may collide in the catalog (a unique violation in pg_type, or
 * "already exists"): the loser tries again and then finds the table. */
static int bootstrap(struct pg_store *q)
{
	PGresult *res;
	const char *state;
	bool collided;
	int err = FLINT_EIO;

	for (int attempt = 0; attempt < 10; attempt++) {
		res = PQexec(q->conn, "CREATE TABLE IF NOT EXISTS schema_version ("
				      " id INTEGER PRIMARY KEY, version INTEGER NOT NULL);"
				      "INSERT INTO schema_version (id, version) VALUES (1, 0)"
				      " ON CONFLICT (id) DO NOTHING");
		err = map_result(res);
		state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
		collided = err < 0 && state &&
			   (strcmp(state, "23505") == 0 || strcmp(state, "42P07") == 0 ||
			    strcmp(state, "42710") == 0 || is_retryable(res));
		PQclear(res);
		if (!collided)
			break;
		usleep(20000);
	}
	if (err < 0)
		check_conn(q);
	return err;
}

/* The migrations from the version the locked version row names. */
static int migrate_tx(struct pg_store *q, const void *arg)
{
	PGresult *res;
	char sql[96];
	long version = -1;
	int err;

	(void)arg;
	res = PQexec(q->conn, "SELECT version FROM schema_version WHERE id = 1 FOR UPDATE");
	err = map_result(res);
	q->retry = err < 0 && is_retryable(res);
	if (err == 0 && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		version = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (err == 0 && version < 0)
		err = FLINT_EIO;
	if (err == 0 && version > N_MIGRATIONS)
		err = FLINT_EUNSUPPORTED; /* written by a newer flintd */
	for (long v = version; err == 0 && v < N_MIGRATIONS; v++)
		err = exec_simple(q, migrations[v]);
	if (err == 0 && version < N_MIGRATIONS) {
		snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %d WHERE id = 1",
			 N_MIGRATIONS);
		err = exec_simple(q, sql);
	}
	return err;
}

/* Brings the schema up to date in one transaction. The row lock on the
 * version row serialises concurrent first opens: the second waits, then
 * reads the version the first committed (or, SERIALIZABLE, fails to
 * serialize and runs again). */
static int migrate(struct pg_store *q)
{
	int err = bootstrap(q);

	return err < 0 ? err : in_tx(q, migrate_tx, NULL);
}

/* Server notices ("relation already exists, skipping") are not errors, and
 * libflint does not log: libpq would print them on stderr. */
static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* dsn: a libpq connection URI (postgresql://...) or key=value string. */
static int pg_open(const char *dsn, struct flint_store **ret)
{
	struct pg_store *q = NULL;
	PQconninfoOption *opts;
	char *msg = NULL;
	int err;

	if (!dsn || !*dsn || !ret)
		return FLINT_EINVAL;
	/* A DSN libpq cannot parse is the operator's error, not an I/O failure. */
	opts = PQconninfoParse(dsn, &msg);
	if (!opts) {
		err = msg ? FLINT_EINVAL : FLINT_ENOMEM;
		PQfreemem(msg);
		return err;
	}
	PQconninfoFree(opts);
	q = calloc(1, sizeof(*q));
	if (!q)
		return FLINT_ENOMEM;
	q->base.ops = &flint_store_postgres;
	/* A connect_timeout in dsn overrides this default, so that a database
	 * that does not answer cannot hold an event loop (connect, PQreset) for
	 * longer than that. */
	q->conn = PQconnectdbParams((const char *const[]){ "connect_timeout", "dbname", NULL },
				    (const char *const[]){ "10", dsn, NULL }, 1);
	if (!q->conn) {
		err = FLINT_ENOMEM;
		goto out;
	}
	PQsetNoticeProcessor(q->conn, ignore_notice, NULL);
	if (PQstatus(q->conn) != CONNECTION_OK || PQsetClientEncoding(q->conn, "UTF8") != 0) {
		err = FLINT_EIO;
		goto out;
	}
	err = migrate(q);
	if (err < 0)
		goto out;
	*ret = &q->base;
	q = NULL;
out:
	pg_close(q ? &q->base : NULL);
	return err;
}

static int pg_nonce_use(struct flint_store *st, const char *nonce, int64_t expires)
{
	return exec(pg(st), S_NONCE_USE, ARGS(TEXT(nonce), I64(expires)));
}

static void pg_read_ahead(struct flint_store *st, const struct flint_store_read_call *calls,
			  size_t n)
{
	struct pg_store *q = pg(st);
	bool ok = true;

	ahead_drop(q);
	for (size_t i = 0; ok && i < n; i++) {
		const struct flint_store_read_call *c = &calls[i];

		if (!c->id)
			continue;
		switch (c->what) {
		case FLINT_READ_NONE:
			break;
		case FLINT_READ_AUTHZ:
			ok = ahead_add(q, S_AUTHZ_GET, ARGS(TEXT(c->id)));
			break;
		case FLINT_READ_CHALLENGE_WITH_AUTHZ:
			ok = ahead_add(q, S_CHALLENGE_WITH_AUTHZ, ARGS(TEXT(c->id)));
			break;
		case FLINT_READ_ORDER:
			ok = ahead_add(q, S_ORDER_GET, ARGS(TEXT(c->id)));
			break;
		case FLINT_READ_ORDER_AND_AUTHZS:
			ok = ahead_add(q, S_ORDER_GET, ARGS(TEXT(c->id))) &&
			     ahead_add(q, S_ORDER_AUTHZS, ARGS(TEXT(c->id)));
			break;
		case FLINT_READ_CERT:
			ok = ahead_add(q, S_CERT_GET, ARGS(TEXT(c->id)));
			break;
		case FLINT_READ_AUTHZ_FIND_VALID:
			ok = ahead_add(q, S_AUTHZ_FIND_VALID,
				       FIND_VALID_ARGS(c->id, c->type, c->value, c->wildcard, c->time));
			break;
		case FLINT_READ_AUTHZ_COUNT_PENDING:
			ok = ahead_add(q, S_AUTHZ_COUNT_PENDING, ARGS(TEXT(c->id), I64(c->time)));
			break;
		case FLINT_READ_COUNT_ORDERS:
			ok = ahead_add(q, S_COUNT_ORDERS, ARGS(TEXT(c->id), I64(c->time)));
			break;
		case FLINT_READ_COUNT_CERT_DOMAIN:
			ok = ahead_add(q, S_COUNT_CERT_DOMAIN, ARGS(TEXT(c->id), I64(c->time)));
			break;
		case FLINT_READ_COUNT_FAILED:
			ok = ahead_add(q, S_COUNT_FAILED_VALIDATIONS,
				       FAILED_ARGS(c->id, c->type, c->value, c->time));
			break;
		}
	}
	if (!ok)
		ahead_drop(q);
}

static int pg_nonce_use_account_get(struct flint_store *st, const char *nonce, int64_t expires,
				    const char *account_id, struct flint_account **ret)
{
	PGresult *res = NULL;
	struct flint_account *a = NULL;
	int err;

	if (!account_id || !ret)
		return FLINT_EINVAL;
	err = select_rows(pg(st), S_NONCE_USE_ACCOUNT_GET,
			  ARGS(TEXT(nonce), I64(expires), TEXT(account_id)), &res);
	if (err == FLINT_ENOTFOUND)
		err = FLINT_EIO; /* the INSERT returns its row or fails */
	if (err == 0 && !PQgetisnull(res, 0, 0))
		err = read_account(res, &a);
	PQclear(res);
	if (err == 0)
		*ret = a;
	return err;
}

static int pg_nonce_purge(struct flint_store *st, int64_t now)
{
	return exec(pg(st), S_NONCE_PURGE, ARGS(I64(now)));
}

/* Insert-if-absent then read: whichever node stored first wins for all. */
static int pg_secret(struct flint_store *st, const char *name, const unsigned char *candidate,
		     size_t len, unsigned char *ret)
{
	struct pg_store *q = pg(st);
	PGresult *res = NULL;
	int err = exec(q, S_SECRET_PUT, ARGS(TEXT(name), BLOB(candidate, len)));

	if (err == 0)
		err = select_rows(q, S_SECRET_GET, ARGS(TEXT(name)), &res);
	if (err == 0) {
		if (PQgetisnull(res, 0, 0) || (size_t)PQgetlength(res, 0, 0) != len)
			err = FLINT_EINVAL; /* stored with another length */
		else
			memcpy(ret, PQgetvalue(res, 0, 0), len);
	}
	PQclear(res);
	return err;
}

static int pg_account_insert(struct flint_store *st, const struct flint_account *acct)
{
	if (!acct)
		return FLINT_EINVAL;
	return exec(pg(st), S_ACCOUNT_INSERT,
		    ARGS(TEXT(acct->id), TEXT(acct->jwk_json), TEXT(acct->thumbprint),
			 TEXT(acct->contact_json), TEXT(acct->status), I64(acct->tos_agreed),
			 I64(acct->created), TEXT(acct->eab_json), TEXT(acct->created_ip)));
}

/* The account first (a taken thumbprint is ECONFLICT), then the key's
 * compare-and-set, which the foreign key lets name the new account. */
struct eab_args {
	const struct flint_account *acct;
	const char *kid;
};

static int account_insert_eab_tx(struct pg_store *q, const void *arg)
{
	const struct eab_args *a = arg;
	int err = pg_account_insert(&q->base, a->acct);

	if (err == 0)
		err = update(q, S_EAB_CLAIM,
			     ARGS(TEXT(a->kid), TEXT(a->acct->id), I64(a->acct->created)),
			     S_EAB_EXISTS, a->kid);
	return err;
}

static int pg_account_insert_eab(struct flint_store *st, const struct flint_account *acct,
				 const char *eab_kid)
{
	if (!acct || !eab_kid)
		return FLINT_EINVAL;
	return in_tx(pg(st), account_insert_eab_tx, &(struct eab_args){ acct, eab_kid });
}

static int pg_eab_insert(struct flint_store *st, const struct flint_eab_key *key)
{
	if (!key || !key->kid || !key->alg || !key->hmac_key || !key->hmac_key_len)
		return FLINT_EINVAL;
	return exec(pg(st), S_EAB_INSERT,
		    ARGS(TEXT(key->kid), TEXT(key->alg), BLOB(key->hmac_key, key->hmac_key_len),
			 I64(key->created), I64(now_us())));
}

static int pg_eab_get(struct flint_store *st, const char *kid, struct flint_eab_key **ret)
{
	PGresult *res = NULL;
	int err;

	if (!kid || !ret)
		return FLINT_EINVAL;
	err = select_rows(pg(st), S_EAB_GET, ARGS(TEXT(kid)), &res);
	if (err == 0)
		err = read_eab(res, 0, ret);
	PQclear(res);
	return err;
}

static int pg_eab_list(struct flint_store *st, struct flint_eab_key ***ret, size_t *ret_n)
{
	struct flint_eab_key **keys = NULL;
	PGresult *res = NULL;
	size_t n = 0;
	int rows, err;

	if (!ret || !ret_n)
		return FLINT_EINVAL;
	err = run(pg(st), S_EAB_LIST, NO_ARGS, &res);
	if (err < 0)
		return err;
	rows = PQntuples(res);
	if (rows > 0 && !(keys = calloc((size_t)rows, sizeof(*keys)))) {
		err = FLINT_ENOMEM;
		goto out;
	}
	for (; n < (size_t)rows; n++) {
		err = read_eab(res, (int)n, &keys[n]);
		if (err < 0)
			goto out;
	}
	*ret = keys;
	*ret_n = n;
	keys = NULL;
out:
	flint_eab_key_list_free(keys, n);
	PQclear(res);
	return err;
}

static int pg_eab_remove(struct flint_store *st, const char *kid)
{
	if (!kid)
		return FLINT_EINVAL;
	return update(pg(st), S_EAB_REMOVE, ARGS(TEXT(kid)), NO_PROBE, kid);
}

static int account_select(struct pg_store *q, enum stmt_id id, const char *key,
			  struct flint_account **ret)
{
	PGresult *res = NULL;
	int err = select_rows(q, id, ARGS(TEXT(key)), &res);

	if (err == 0)
		err = read_account(res, ret);
	PQclear(res);
	return err;
}

static int pg_account_get(struct flint_store *st, const char *id, struct flint_account **ret)
{
	return account_select(pg(st), S_ACCOUNT_GET, id, ret);
}

static int pg_account_by_thumbprint(struct flint_store *st, const char *thumbprint,
				    struct flint_account **ret)
{
	return account_select(pg(st), S_ACCOUNT_BY_THUMBPRINT, thumbprint, ret);
}

/* One UPDATE statement, atomic on its own; the unique index on thumbprint
 * turns a key change onto another account's key into FLINT_ECONFLICT. */
static int pg_account_update(struct flint_store *st, const struct flint_account *acct,
			     const struct flint_account *expect)
{
	if (!acct || !expect)
		return FLINT_EINVAL;
	return update(pg(st), S_ACCOUNT_UPDATE,
		      ARGS(TEXT(acct->id), TEXT(acct->jwk_json), TEXT(acct->thumbprint),
			   TEXT(acct->contact_json), TEXT(acct->status), I64(acct->tos_agreed),
			   TEXT(expect->thumbprint), TEXT(expect->status)),
		      S_ACCOUNT_EXISTS, acct->id);
}

/* What the batched writes below send. */
static const enum stmt_id AUTHZ_INSERT_USES[] = { S_AUTHZ_INSERT, S_CHALLENGES_INSERT };
static const enum stmt_id ORDER_INSERT_USES[] = { S_AUTHZ_INSERT, S_CHALLENGES_INSERT,
						  S_ORDER_INSERT, S_ORDER_AUTHZ_INSERT };
static const enum stmt_id CERT_INSERT_USES[] = { S_CERT_INSERT, S_CERT_DOMAIN_INSERT };
#define N_USES(a) (sizeof(a) / sizeof((a)[0]))

enum challenge_field { CF_ID, CF_TYPE, CF_TOKEN, CF_STATUS, CF_ERROR, CF_VALIDATED };

/* An element of a PostgreSQL array literal: "v" (quotes and backslashes
 * escaped), or NULL. */
static void array_text(FILE *m, const char *v)
{
	if (!v) {
		fputs("NULL", m);
		return;
	}
	fputc('"', m);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			fputc('\\', m);
		fputc(*v, m);
	}
	fputc('"', m);
}

/* Closes an array literal being written to m, the memstream of *s (which
 * fclose sets), and returns it; NULL when out of memory. */
static char *array_end(FILE *m, char **s)
{
	fputc('}', m);
	if (fclose(m) != 0) {
		free(*s);
		return NULL;
	}
	return *s;
}

/* One field of every challenge of a as a PostgreSQL array literal:
 * {"x","y",NULL} for texts (quotes and backslashes escaped), {1,2} for
 * CF_VALIDATED. NULL when out of memory. */
static char *challenge_array(const struct flint_authz *a, enum challenge_field f)
{
	char *s = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&s, &len);

	if (!m)
		return NULL;
	fputc('{', m);
	for (size_t i = 0; i < a->n_challenges; i++) {
		const struct flint_challenge *c = &a->challenges[i];
		const char *v = f == CF_ID ? c->id
			      : f == CF_TYPE ? c->type
			      : f == CF_TOKEN ? c->token
			      : f == CF_STATUS ? (c->status ? c->status : "pending")
					       : c->error_json;
		if (i)
			fputc(',', m);
		if (f == CF_VALIDATED) {
			fprintf(m, "%" PRId64, c->validated);
			continue;
		}
		array_text(m, v);
	}
	return array_end(m, &s);
}

/* texts (n of them) as a PostgreSQL array literal; NULL when out of memory */
static char *text_array(char *const *texts, size_t n)
{
	char *s = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&s, &len);

	if (!m)
		return NULL;
	fputc('{', m);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', m);
		array_text(m, texts[i]);
	}
	return array_end(m, &s);
}

static int insert_authz(struct pg_store *q, const struct flint_authz *a)
{
	int64_t ins = now_us();
	char *v[CF_VALIDATED + 1] = {0};
	int err;

	err = exec(q, S_AUTHZ_INSERT,
		   ARGS(TEXT(a->id), TEXT(a->account_id), TEXT(a->ident_type),
			TEXT(a->ident_value), I64(a->wildcard), TEXT(a->status), I64(a->expires),
			I64(a->created), I64(ins)));
	if (err < 0 || a->n_challenges == 0)
		return err;
	for (int f = CF_ID; f <= CF_VALIDATED; f++)
		if (!(v[f] = challenge_array(a, (enum challenge_field)f)))
			err = FLINT_ENOMEM;
	/* The challenges belong to this authz whatever c->authz_id says. */
	if (err == 0)
		err = exec(q, S_CHALLENGES_INSERT,
			   ARGS(TEXT(v[CF_ID]), TEXT(a->id), TEXT(v[CF_TYPE]), TEXT(v[CF_TOKEN]),
				TEXT(v[CF_STATUS]), TEXT(v[CF_VALIDATED]), TEXT(v[CF_ERROR]),
				I64(ins)));
	for (int f = CF_ID; f <= CF_VALIDATED; f++)
		free(v[f]);
	return err;
}

static int authz_insert_tx(struct pg_store *q, const void *arg)
{
	return insert_authz(q, arg);
}

static int pg_authz_insert(struct flint_store *st, const struct flint_authz *authz)
{
	if (!authz || (authz->n_challenges && !authz->challenges))
		return FLINT_EINVAL;
	return in_batch(pg(st), authz_insert_tx, authz, AUTHZ_INSERT_USES, N_USES(AUTHZ_INSERT_USES));
}

struct order_args {
	const struct flint_order *order;
	const struct flint_authz *new_authzs;
	size_t n_new;
};

static int order_insert_tx(struct pg_store *q, const void *arg)
{
	const struct order_args *a = arg;
	const struct flint_order *order = a->order;
	const struct flint_authz *new_authzs = a->new_authzs;
	size_t n_new = a->n_new;
	int err = 0;

	for (size_t i = 0; i < n_new && err == 0; i++)
		err = insert_authz(q, &new_authzs[i]);
	if (err == 0)
		err = exec(q, S_ORDER_INSERT,
			   ARGS(TEXT(order->id), TEXT(order->account_id), TEXT(order->status),
				I64(order->expires), I64(order->not_before), I64(order->not_after),
				I64(order->created), TEXT(order->identifiers_json),
				TEXT(order->error_json), TEXT(order->cert_id), TEXT(order->profile),
				TEXT(order->replaces), I64(now_us())));
	for (size_t i = 0; i < order->n_authz && err == 0; i++)
		err = exec(q, S_ORDER_AUTHZ_INSERT,
			   ARGS(TEXT(order->id), I64((int64_t)i), TEXT(order->authz_ids[i])));
	return err;
}

static int pg_order_insert(struct flint_store *st, const struct flint_order *order,
			   const struct flint_authz *new_authzs, size_t n_new)
{
	if (!order || (n_new && !new_authzs) || (order->n_authz && !order->authz_ids))
		return FLINT_EINVAL;
	return in_batch(pg(st), order_insert_tx, &(struct order_args){ order, new_authzs, n_new },
			ORDER_INSERT_USES, N_USES(ORDER_INSERT_USES));
}

static int pg_order_get(struct flint_store *st, const char *id, struct flint_order **ret)
{
	PGresult *res = NULL;
	int err = select_rows(pg(st), S_ORDER_GET, ARGS(TEXT(id)), &res);

	if (err == 0)
		err = read_order(res, ret);
	PQclear(res);
	return err;
}

static int pg_order_set_status(struct flint_store *st, const char *id, const char *expect,
			       const char *status, const char *error_json, const char *cert_id)
{
	if (!expect || !status)
		return FLINT_EINVAL;
	return update(pg(st), S_ORDER_SET_STATUS,
		      ARGS(TEXT(id), TEXT(expect), TEXT(status), TEXT(error_json), TEXT(cert_id)),
		      S_ORDER_EXISTS, id);
}

/* Keyset paging on (created, ins, id). Orders are never deleted nor their
 * keys changed, so reading the cursor and the page separately is safe. */
static int pg_orders_by_account(struct flint_store *st, const char *account_id,
				const char *after_id, size_t limit, char ***ret_ids, size_t *ret_n,
				bool *ret_more)
{
	struct pg_store *q = pg(st);
	PGresult *cur = NULL, *res = NULL;
	char **ids = NULL;
	size_t n = 0;
	int rows, err;
	/* One extra row tells whether more exist; NULL is no limit. */
	char lim[24];
	const char *lim_text = NULL;

	if (!account_id || !ret_ids || !ret_n || !ret_more)
		return FLINT_EINVAL;
	if (limit < (size_t)INT64_MAX) {
		snprintf(lim, sizeof(lim), "%" PRId64, (int64_t)limit + 1);
		lim_text = lim;
	}
	if (after_id) {
		/* An id that is not an order of this account is not a cursor. */
		err = select_rows(q, S_ORDER_CURSOR, ARGS(TEXT(after_id), TEXT(account_id)), &cur);
		if (err < 0)
			goto out;
		err = run(q, S_ORDERS_AFTER,
			  ARGS(TEXT(account_id), I64(col_i64(cur, 0, 0)), I64(col_i64(cur, 0, 1)),
			       TEXT(after_id), TEXT(lim_text)),
			  &res);
	} else {
		err = run(q, S_ORDERS_FIRST, ARGS(TEXT(account_id), TEXT(lim_text)), &res);
	}
	if (err < 0)
		goto out;
	rows = PQntuples(res);
	err = read_ids(res, 0, (size_t)rows > limit ? (int)limit : rows, &ids, &n);
	if (err < 0)
		goto out;
	*ret_more = (size_t)rows > limit;
	*ret_ids = ids;
	*ret_n = n;
out:
	PQclear(cur);
	PQclear(res);
	return err;
}

static int authz_select(struct pg_store *q, enum stmt_id id, const struct param *p, size_t n,
			struct flint_authz **ret)
{
	PGresult *res = NULL;
	int err = select_rows(q, id, p, n, &res);

	if (err == 0)
		err = read_authz(res, ret);
	PQclear(res);
	return err;
}

static int pg_authz_get(struct flint_store *st, const char *id, struct flint_authz **ret)
{
	return authz_select(pg(st), S_AUTHZ_GET, ARGS(TEXT(id)), ret);
}

static int pg_authzs_of_order(struct flint_store *st, const char *order_id, char *const *ids,
			      size_t n, struct flint_authz **ret)
{
	PGresult *res = NULL;
	struct flint_authz *a = NULL;
	int rows, err;

	if ((err = run(pg(st), S_ORDER_AUTHZS, ARGS(TEXT(order_id)), &res)) < 0)
		return err;
	rows = PQntuples(res);
	for (int first = 0, end; first < rows && err == 0; first = end) {
		const char *id = PQgetvalue(res, first, 0);
		int len = PQgetlength(res, first, 0);

		for (end = first + 1; end < rows && PQgetlength(res, end, 0) == len &&
				      memcmp(PQgetvalue(res, end, 0), id, (size_t)len) == 0;
		     end++)
			;
		if ((err = read_authz_rows(res, first, end, &a)) < 0)
			break;
		for (size_t i = 0; a && i < n; i++)
			if (!ret[i] && strcmp(ids[i], a->id) == 0) {
				ret[i] = a;
				a = NULL;
			}
		flint_authz_free(a); /* not one of ids, or one already placed */
		a = NULL;
	}
	PQclear(res);
	return err;
}

static int pg_authz_find_valid(struct flint_store *st, const char *account_id,
			       const char *ident_type, const char *ident_value, bool wildcard,
			       int64_t min_expires, struct flint_authz **ret)
{
	return authz_select(pg(st), S_AUTHZ_FIND_VALID,
			    FIND_VALID_ARGS(account_id, ident_type, ident_value, wildcard, min_expires),
			    ret);
}

static int pg_authz_count_pending(struct flint_store *st, const char *account_id, int64_t now,
				  size_t *ret)
{
	PGresult *res = NULL;
	int err = select_rows(pg(st), S_AUTHZ_COUNT_PENDING, ARGS(TEXT(account_id), I64(now)),
			      &res);

	if (err == 0)
		*ret = (size_t)col_i64(res, 0, 0);
	PQclear(res);
	return err;
}

static int pg_authz_set_status(struct flint_store *st, const char *id, const char *expect,
			       const char *status)
{
	if (!status)
		return FLINT_EINVAL;
	return update(pg(st), S_AUTHZ_SET_STATUS, ARGS(TEXT(id), TEXT(expect), TEXT(status)),
		      S_AUTHZ_EXISTS, id);
}

static int pg_challenge_with_authz(struct flint_store *st, const char *id,
				       struct flint_challenge **ret_challenge,
				       struct flint_authz **ret_authz,
				       struct flint_account **ret_account)
{
	struct flint_challenge *c = NULL;
	struct flint_authz *a = NULL;
	struct flint_account *acct = NULL;
	PGresult *res = NULL;
	int err = select_rows(pg(st), S_CHALLENGE_WITH_AUTHZ, ARGS(TEXT(id)), &res);

	if (err == 0 && (!(c = calloc(1, sizeof(*c))) || !(a = calloc(1, sizeof(*a)))))
		err = FLINT_ENOMEM;
	if (err == 0 && (err = read_challenge(res, 0, 0, c)) < 0) {
		free(c); /* read_challenge cleared it */
		c = NULL;
	}
	if (err == 0)
		err = read_authz_row(res, 0, 7, a);
	if (err == 0 && ret_account)
		err = read_account_at(res, 15, &acct);
	if (err == 0) {
		*ret_challenge = c;
		*ret_authz = a;
		if (ret_account)
			*ret_account = acct;
		c = NULL;
		a = NULL;
	}
	flint_challenge_free(c);
	flint_authz_free(a);
	PQclear(res);
	return err;
}

static int pg_challenge_get(struct flint_store *st, const char *id, struct flint_challenge **ret)
{
	struct flint_challenge *c = NULL;
	PGresult *res = NULL;
	int err = select_rows(pg(st), S_CHALLENGE_GET, ARGS(TEXT(id)), &res);

	if (err == 0 && !(c = calloc(1, sizeof(*c))))
		err = FLINT_ENOMEM;
	if (err == 0)
		err = read_challenge(res, 0, 0, c);
	if (err == 0) {
		*ret = c;
		c = NULL;
	}
	free(c); /* read_challenge cleared it */
	PQclear(res);
	return err;
}

static int pg_challenge_start(struct flint_store *st, const char *id, const char *node,
			      int64_t claim_until)
{
	if (!node)
		return FLINT_EINVAL;
	return update(pg(st), S_CHALLENGE_START, ARGS(TEXT(id), TEXT(node), I64(claim_until)),
		      S_CHALLENGE_EXISTS, id);
}

static int pg_challenge_finish(struct flint_store *st, const char *id, bool valid,
			       int64_t validated, const char *error_json, int64_t authz_expires)
{
	return update(pg(st), S_CHALLENGE_FINISH,
		      ARGS(TEXT(id), TEXT(valid ? "valid" : "invalid"), I64(validated),
			   TEXT(error_json), I64(authz_expires)),
		      S_CHALLENGE_EXISTS, id);
}

/* One UPDATE ... RETURNING: the rows it returns are this node's now. */
static int claim(struct flint_store *st, enum stmt_id id, const struct flint_claim *c,
		 char ***ret_ids, size_t *ret_n)
{
	PGresult *res = NULL;
	int err;

	if (!c || !c->node || !ret_ids || !ret_n || c->limit == 0)
		return FLINT_EINVAL;
	err = run(pg(st), id,
		  ARGS(TEXT(c->node), I64(c->now), I64(c->claim_until), I64(c->own),
		       I64(c->limit > INT64_MAX ? INT64_MAX : (int64_t)c->limit)),
		  &res);
	if (err == 0) {
		*ret_ids = NULL;
		*ret_n = 0;
		err = read_ids(res, 0, PQntuples(res), ret_ids, ret_n);
	}
	PQclear(res);
	return err;
}

static int pg_challenges_claim(struct flint_store *st, const struct flint_claim *c,
			       char ***ret_ids, size_t *ret_n)
{
	return claim(st, S_CHALLENGES_CLAIM, c, ret_ids, ret_n);
}

static int pg_orders_claim(struct flint_store *st, const struct flint_claim *c, char ***ret_ids,
			   size_t *ret_n)
{
	return claim(st, S_ORDERS_CLAIM, c, ret_ids, ret_n);
}

static int pg_order_start_finalize(struct flint_store *st, const char *id,
				   const unsigned char *csr, size_t csr_len, const char *node,
				   int64_t now, int64_t claim_until)
{
	if (!csr || !csr_len || !node)
		return FLINT_EINVAL;
	return update(pg(st), S_ORDER_START_FINALIZE,
		      ARGS(TEXT(id), BLOB(csr, csr_len), TEXT(node), I64(claim_until), I64(now)),
		      S_ORDER_EXISTS, id);
}

static int pg_order_csr(struct flint_store *st, const char *id, unsigned char **ret,
			size_t *ret_len)
{
	PGresult *res = NULL;
	int err = select_rows(pg(st), S_ORDER_CSR, ARGS(TEXT(id)), &res);

	if (err == 0)
		err = col_bytes(res, 0, 0, ret, ret_len);
	if (err == 0 && !*ret)
		err = FLINT_ENOTFOUND;
	PQclear(res);
	return err;
}

static int pg_lease_acquire(struct flint_store *st, const char *name, const char *holder,
			    int64_t now, int64_t until)
{
	PGresult *res = NULL;
	int err;

	if (!name || !holder)
		return FLINT_EINVAL;
	err = run(pg(st), S_LEASE_ACQUIRE, ARGS(TEXT(name), TEXT(holder), I64(now), I64(until)),
		  &res);
	if (err == 0 && changes(res) == 0)
		err = FLINT_ECONFLICT;
	PQclear(res);
	return err;
}

static int cert_insert_row(struct pg_store *q, const struct flint_cert *cert)
{
	return exec(q, S_CERT_INSERT,
		    ARGS(TEXT(cert->id), TEXT(cert->serial), TEXT(cert->account_id),
			 TEXT(cert->order_id), BLOB(cert->der, cert->der_len),
			 TEXT(cert->chain_pem), I64(cert->not_before), I64(cert->not_after),
			 I64(cert->revoked_at), I64(cert->reason), TEXT(cert->names_json),
			 TEXT(cert->profile), I64(now_us())));
}

/* The certificate and, in the same transaction, the domains it counts
 * against for rate limits. */
static int cert_insert_tx(struct pg_store *q, const void *arg)
{
	const struct flint_cert *cert = arg;
	int err = cert_insert_row(q, cert);

	for (size_t i = 0; err == 0 && i < cert->n_rate_domains; i++)
		err = exec(q, S_CERT_DOMAIN_INSERT,
			   ARGS(TEXT(cert->rate_domains[i]), TEXT(cert->id), I64(cert->not_before)));
	return err;
}

static int pg_cert_insert(struct flint_store *st, const struct flint_cert *cert)
{
	if (!flint_cert_storable(cert))
		return FLINT_EINVAL;
	if (!cert->n_rate_domains)
		return cert_insert_row(pg(st), cert);
	return in_batch(pg(st), cert_insert_tx, cert, CERT_INSERT_USES, N_USES(CERT_INSERT_USES));
}

static int pg_cert_issue(struct flint_store *st, const struct flint_cert *cert)
{
	char *domains;
	int err;

	if (!flint_cert_storable(cert) || !cert->order_id)
		return FLINT_EINVAL;
	if (!(domains = text_array(cert->rate_domains, cert->n_rate_domains)))
		return FLINT_ENOMEM;
	err = update(pg(st), S_CERT_ISSUE,
		     ARGS(TEXT(cert->id), TEXT(cert->serial), TEXT(cert->account_id),
			  TEXT(cert->order_id), BLOB(cert->der, cert->der_len), TEXT(cert->chain_pem),
			  I64(cert->not_before), I64(cert->not_after), I64(cert->revoked_at),
			  I64(cert->reason), TEXT(cert->names_json), TEXT(cert->profile),
			  I64(now_us()), TEXT(domains)),
		     S_ORDER_EXISTS, cert->order_id);
	free(domains);
	return err;
}

static int cert_select(struct pg_store *q, enum stmt_id id, const char *key,
		       struct flint_cert **ret)
{
	PGresult *res = NULL;
	int err = select_rows(q, id, ARGS(TEXT(key)), &res);

	if (err == 0)
		err = read_cert(res, 0, ret);
	PQclear(res);
	return err;
}

static int pg_cert_get(struct flint_store *st, const char *id, struct flint_cert **ret)
{
	return cert_select(pg(st), S_CERT_GET, id, ret);
}

static int pg_cert_by_serial(struct flint_store *st, const char *serial, struct flint_cert **ret)
{
	return cert_select(pg(st), S_CERT_BY_SERIAL, serial, ret);
}

static int pg_cert_revoke(struct flint_store *st, const char *id, int reason, int64_t when)
{
	if (when <= 0)
		return FLINT_EINVAL; /* revoked_at 0 means "not revoked" */
	return update(pg(st), S_CERT_REVOKE, ARGS(TEXT(id), I64(when), I64(reason)),
		      S_CERT_EXISTS, id);
}

static int pg_certs_revoked(struct flint_store *st, int64_t now, struct flint_cert ***ret,
			    size_t *ret_n)
{
	struct flint_cert **certs = NULL;
	PGresult *res = NULL;
	size_t n = 0;
	int rows, err;

	if (!ret || !ret_n)
		return FLINT_EINVAL;
	err = run(pg(st), S_CERTS_REVOKED, ARGS(I64(now)), &res);
	if (err < 0)
		return err;
	rows = PQntuples(res);
	if (rows > 0 && !(certs = calloc((size_t)rows, sizeof(*certs)))) {
		err = FLINT_ENOMEM;
		goto out;
	}
	for (; n < (size_t)rows; n++) {
		err = read_cert(res, (int)n, &certs[n]);
		if (err < 0)
			goto out;
	}
	*ret = certs;
	*ret_n = n;
	certs = NULL;
out:
	flint_cert_list_free(certs, n);
	PQclear(res);
	return err;
}

static int pg_cert_claim_replacement(struct flint_store *st, const char *cert_id,
				     const char *order_id, const char *expect)
{
	if (!cert_id || !order_id)
		return FLINT_EINVAL;
	return update(pg(st), S_CERT_CLAIM, ARGS(TEXT(cert_id), TEXT(order_id), TEXT(expect)),
		      S_CERT_EXISTS, cert_id);
}

static int pg_certs_set_ari_window(struct flint_store *st, const char *serial,
				   const char *account_id, int64_t now, int64_t start, int64_t end,
				   const char *explanation, size_t *ret_n)
{
	PGresult *res = NULL;
	int err;

	if (!ret_n || end <= start)
		return FLINT_EINVAL;
	err = run(pg(st), S_CERTS_SET_ARI,
		  ARGS(I64(now), I64(start), I64(end), TEXT(explanation), TEXT(serial),
		       TEXT(account_id)),
		  &res);
	if (err == 0)
		*ret_n = changes(res);
	PQclear(res);
	return err;
}

/* count(*) and min(time) of a rate-limit query. */
static int count_since(struct pg_store *q, enum stmt_id id, const struct param *p, size_t n,
		       size_t *ret_n, int64_t *ret_oldest)
{
	PGresult *res = NULL;
	int err;

	if (!ret_n || !ret_oldest)
		return FLINT_EINVAL;
	err = select_rows(q, id, p, n, &res);
	if (err == 0) {
		*ret_n = (size_t)col_i64(res, 0, 0);
		*ret_oldest = col_i64(res, 0, 1);
	}
	PQclear(res);
	return err;
}

static int pg_count_orders_since(struct flint_store *st, const char *account_id, int64_t since,
				 size_t *ret_n, int64_t *ret_oldest)
{
	return count_since(pg(st), S_COUNT_ORDERS, ARGS(TEXT(account_id), I64(since)), ret_n,
			   ret_oldest);
}

static int pg_count_certs_for_domain_since(struct flint_store *st, const char *domain,
					   int64_t since, size_t *ret_n, int64_t *ret_oldest)
{
	return count_since(pg(st), S_COUNT_CERT_DOMAIN, ARGS(TEXT(domain), I64(since)), ret_n,
			   ret_oldest);
}

static int pg_count_failed_validations_since(struct flint_store *st, const char *account_id,
					     const char *ident_type, const char *ident_value,
					     int64_t since, size_t *ret_n, int64_t *ret_oldest)
{
	return count_since(pg(st), S_COUNT_FAILED_VALIDATIONS,
			   FAILED_ARGS(account_id, ident_type, ident_value, since), ret_n, ret_oldest);
}

static int pg_count_accounts_from_since(struct flint_store *st, const char *ip, int64_t since,
					size_t *ret_n, int64_t *ret_oldest)
{
	return count_since(pg(st), S_COUNT_ACCOUNTS_IP, ARGS(TEXT(ip), I64(since)), ret_n,
			   ret_oldest);
}

const struct flint_store_ops flint_store_postgres = {
	.name = "postgres",
	.open = pg_open,
	.close = pg_close,
	.nonce_use = pg_nonce_use,
	.nonce_use_account_get = pg_nonce_use_account_get,
	.read_ahead = pg_read_ahead,
	.authzs_of_order = pg_authzs_of_order,
	.secret = pg_secret,
	.nonce_purge = pg_nonce_purge,
	.account_insert = pg_account_insert,
	.account_get = pg_account_get,
	.account_by_thumbprint = pg_account_by_thumbprint,
	.account_update = pg_account_update,
	.account_insert_eab = pg_account_insert_eab,
	.eab_insert = pg_eab_insert,
	.eab_get = pg_eab_get,
	.eab_list = pg_eab_list,
	.eab_remove = pg_eab_remove,
	.authz_insert = pg_authz_insert,
	.order_insert = pg_order_insert,
	.order_get = pg_order_get,
	.order_set_status = pg_order_set_status,
	.orders_by_account = pg_orders_by_account,
	.authz_get = pg_authz_get,
	.authz_find_valid = pg_authz_find_valid,
	.authz_count_pending = pg_authz_count_pending,
	.authz_set_status = pg_authz_set_status,
	.challenge_get = pg_challenge_get,
	.challenge_with_authz = pg_challenge_with_authz,
	.challenge_start = pg_challenge_start,
	.challenge_finish = pg_challenge_finish,
	.challenges_claim = pg_challenges_claim,
	.order_start_finalize = pg_order_start_finalize,
	.orders_claim = pg_orders_claim,
	.order_csr = pg_order_csr,
	.lease_acquire = pg_lease_acquire,
	.cert_insert = pg_cert_insert,
	.cert_issue = pg_cert_issue,
	.cert_get = pg_cert_get,
	.cert_by_serial = pg_cert_by_serial,
	.cert_revoke = pg_cert_revoke,
	.certs_revoked = pg_certs_revoked,
	.cert_claim_replacement = pg_cert_claim_replacement,
	.count_orders_since = pg_count_orders_since,
	.count_certs_for_domain_since = pg_count_certs_for_domain_since,
	.count_failed_validations_since = pg_count_failed_validations_since,
	.count_accounts_from_since = pg_count_accounts_from_since,
	.certs_set_ari_window = pg_certs_set_ari_window,
};
