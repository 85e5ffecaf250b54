/* The validation worker pool: challenges are validated on these threads,
 * never on an event loop, each worker with its own store handle and resolver. */
#ifndef FLINTD_WORKER_H
#define FLINTD_WORKER_H

#include "config.h"
#include "problem.h"
#include "store/store.h"
#include "validate/validator.h"

struct flint_validation_pool;

/* Starts cfg->validation_workers threads. */
int flint_validation_pool_new(const struct flintd_config *cfg,
			      struct flint_validation_pool **ret);
/* Queues a challenge (already moved to processing) for validation. c, a
 * (without its challenges) and acct: the challenge, its authorization and
 * their account as the caller has just read them, copied for the worker so
 * it need not read them again; all three or NULL (the worker reads them).
 * The copies are dropped when many queued jobs carry some already, and
 * read again when the job waited half a job lease or more. */
int flint_validation_pool_submit(struct flint_validation_pool *p, const char *challenge_id,
				 const struct flint_challenge *c, const struct flint_authz *a,
				 const struct flint_account *acct);
/* Other slow work for a worker thread, handed down by a layer above (so this
 * layer does not import it): fn(arg, the worker's store, its resolver), then
 * free_arg(arg) (also when the pool stops first). On a negative return the
 * job was not taken and arg is still the caller's. */
struct flint_resolver;
typedef void (*flint_pool_fn)(void *arg, struct flint_store *st, struct flint_resolver *res);
int flint_validation_pool_run(struct flint_validation_pool *p, flint_pool_fn fn, void *arg,
			      void (*free_arg)(void *arg));
/* Records a challenge in processing as invalid with a problem of type/detail
 * (and its authorization invalid), for work that will never run. */
int flint_validation_fail(struct flint_store *st, const char *challenge_id,
			  enum flint_problem_type type, const char *detail);
/* Stops the workers after their current validation and frees the pool. */
void flint_validation_pool_free(struct flint_validation_pool *p);

#endif
