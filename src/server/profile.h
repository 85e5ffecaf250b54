/* Certificate profiles (draft-ietf-acme-profiles): named sets of certificate
 * contents the CA issues under, advertised in meta.profiles and chosen per
 * order. Defined in the configuration, one "profile = ..." line each:
 *
 *   profile = NAME; lifetime=90d; eku=serverAuth,clientAuth; cn=yes;
 *             identifiers=dns,ip; description=TEXT
 *
 * lifetime takes d (days) or h (hours); eku lists serverAuth and/or
 * clientAuth; cn=yes puts the first DNS name (when it fits in 64 octets) in
 * the subject CN, cn=no leaves the subject empty; identifiers lists the
 * identifier types the profile accepts; description (the rest of the line)
 * is what meta.profiles shows. Without any profile lines flintd ships
 * "classic", "tlsserver" and "shortlived" (flint_profiles_builtin). */
#ifndef FLINTD_PROFILE_H
#define FLINTD_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLINT_PROFILE_NAME_MAX 64

struct flint_profile {
	char *name;
	char *description;
	int64_t lifetime;   /* seconds */
	bool server_auth;   /* EKU id-kp-serverAuth */
	bool client_auth;   /* EKU id-kp-clientAuth */
	bool common_name;   /* subject CN = first DNS name */
	bool allow_dns;     /* identifier types accepted */
	bool allow_ip;
};

/* Parses one profile line (the text after "profile ="). On error returns
 * FLINT_EINVAL and, when ret_err is not NULL, a malloc'd one-line reason. */
int flint_profile_parse(const char *spec, struct flint_profile *ret, char **ret_err);

/* The three shipped profiles, as parsed from their specification lines. */
extern const char *const flint_profiles_builtin[];

/* The profile called name in a list; NULL when there is none. */
const struct flint_profile *flint_profile_find(const struct flint_profile *list, size_t n,
					       const char *name);

/* Whether the profile accepts identifiers of this type ("dns", "ip"). */
bool flint_profile_allows(const struct flint_profile *p, const char *ident_type);

void flint_profile_clear(struct flint_profile *p);

#endif
