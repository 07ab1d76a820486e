// Patient-level grouping: the seeded hold-out of whole patients (no patient in two splits), and
// the salted patient key that is all an output may show of a patient id (an id can be a medical
// record number).
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace cxr {

// The groups (distinct names; order irrelevant) that go to validation: round(fraction · G) of
// them, chosen by a seeded shuffle of the sorted names. The same seed gives the same groups.
std::set<std::string> held_out_groups(std::vector<std::string> groups, double fraction, uint64_t seed);

// The salt of one dataset: SHA-256 of a fixed tag and the canonical absolute path of the
// dataset root (the path as given when it cannot be resolved). Per root, so keys from two
// roots cannot be joined; the same root always gives the same keys, so a dry run and a training
// run agree. It is a pseudonym, not anonymisation: whoever knows the root path and can enumerate
// ids can recompute a key, so keys stay in local outputs.
std::string dataset_salt(const std::string& root);

// 16 hex digits of SHA-256(salt ‖ 0x00 ‖ id); empty for an empty id.
std::string patient_key(const std::string& salt, const std::string& id);

}  // namespace cxr
