//! Case management's vocabulary and rules: the council's five strategies, case, plan item and
//! referral states with the moves allowed between them, partners and intervention types.
