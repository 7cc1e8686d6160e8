// SPDX-License-Identifier: Apache-2.0
// libcrypto (libssl-dev): SHA-256 through the EVP digest API, see EVP_DigestInit(3).
#include <openssl/evp.h>
