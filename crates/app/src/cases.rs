//! Case management's application rules: opening a case, needs from deprivations, plans,
//! closed-loop referrals with deadlines, the duplicate-help warning, visits and graduation by
//! the target engine's rule.
