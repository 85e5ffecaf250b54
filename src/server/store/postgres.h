/* The PostgreSQL store backend: one libpq connection per handle, one handle
 * per thread; the database serialises writers, so many nodes share one store. */
#ifndef FLINT_STORE_POSTGRES_H
#define FLINT_STORE_POSTGRES_H

#include "store/store.h"

extern const struct flint_store_ops flint_store_postgres;

#endif
