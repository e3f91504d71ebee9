"""Staff accounts: creating them, their roles in organisations, deactivating them, and the invitations
(a link by e-mail or handed over, or a printed card) through which a new staff member chooses a password."""
