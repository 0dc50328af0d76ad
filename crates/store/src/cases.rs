//! Case management's tables: partners, cases, needs, plan items, referrals and visits.
