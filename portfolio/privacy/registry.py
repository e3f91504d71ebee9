"""Every place where the database refers to a person, and what the export and the deletion do with it.

In the spirit of Moodle's privacy API: each column that references ``user_account`` is declared here,
with the section of ``portfolio.json`` that carries its rows and what deleting the account does to
them. ``tests/test_privacy.py`` walks the foreign keys of the whole schema and fails on any column
that is not declared, so a new table that stores something about a person cannot be forgotten.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class OnDelete(enum.StrEnum):
    DELETE = "delete"  # the person's own data: removed with the account
    DETACH = "detach"  # someone else's record that mentions the person: kept, the reference cleared
    PSEUDONYMISE = "pseudonymise"  # the audit log: kept (it must be), the person replaced by a pseudonym


@dataclass(frozen=True)
class Reference:
    table: str
    column: str
    section: str  # the key of portfolio.json whose items (with their "id") cover these rows
    on_delete: OnDelete
    why: str


MENTIONS = "mentions"  # {"table.column": [ids]}: records written by the person about others

REFERENCES: tuple[Reference, ...] = (
    Reference("membership", "user_id", "memberships", OnDelete.DELETE, "roles in organisations"),
    Reference("login_card", "user_id", "login_cards", OnDelete.DELETE, "login cards printed for the person"),
    Reference("signed_in_session", "user_id", "signed_in_sessions", OnDelete.DELETE, "the person's sessions"),
    Reference("external_identity", "user_id", "external_identities", OnDelete.DELETE,
              "identity-provider accounts linked to the person's"),
    Reference("sign_in_invitation", "user_id", "sign_in_invitations", OnDelete.DELETE,
              "invitations to link an identity provider"),
    Reference("staff_invitation", "user_id", "staff_invitations", OnDelete.DELETE,
              "invitations to choose a password as a new staff member"),
    Reference("journal_entry", "owner_id", "entries", OnDelete.DELETE, "the journal"),
    Reference("photo", "owner_id", "photos", OnDelete.DELETE, "photos of the journal (files too)"),
    Reference("assessment", "learner_id", "assessments", OnDelete.DELETE, "judgements on the person's competences"),
    Reference("consent", "owner_id", "consents", OnDelete.DELETE, "consents the person gave"),
    Reference("submission", "owner_id", "submissions", OnDelete.DELETE, "evidence files the person sent"),
    Reference("credential_holder", "user_id", "credential_identity", OnDelete.DELETE,
              "the stable identifier the person's credentials name her by"),
    Reference("credential", "holder_id", "credentials", OnDelete.DETACH,
              "credentials issued to the person: revoked, emptied of what named her; the rows keep their "
              "status-list bits"),
    Reference("ticket", "beneficiary_id", "tickets", OnDelete.DETACH,
              "the prescriber's and the EPM's accounting record: kept, the holder's identity erased"),
    Reference("enrolment", "learner_id", "enrolments", OnDelete.DETACH,
              "the EPM's record of hours: kept, the interview's words erased"),
    Reference("audit_event", "actor_id", "audit_events", OnDelete.PSEUDONYMISE, "what the person did"),
    Reference("audit_event", "subject_user_id", "audit_events", OnDelete.PSEUDONYMISE, "who read the person's data"),
    # Records the person wrote as staff (animator, assessor, prescriber): they belong to others.
    Reference("assessment", "assessor_id", MENTIONS, OnDelete.DETACH, "judgements the person gave"),
    Reference("enrolment", "registered_by_id", MENTIONS, OnDelete.DETACH, "registrations the person made"),
    Reference("positioning_interview", "animator_id", MENTIONS, OnDelete.DETACH, "interviews the person held"),
    Reference("workshop_session", "animator_id", MENTIONS, OnDelete.DETACH, "workshops the person led"),
    Reference("attendance", "recorded_by_id", MENTIONS, OnDelete.DETACH, "attendance the person recorded"),
    Reference("ticket", "issued_by_id", MENTIONS, OnDelete.DETACH, "tickets the person issued"),
    Reference("consent", "recorded_by_id", MENTIONS, OnDelete.DETACH, "paper consents the person recorded"),
    Reference("consent", "revoked_by_id", MENTIONS, OnDelete.DETACH, "paper withdrawals the person recorded"),
    Reference("submission", "decided_by_id", MENTIONS, OnDelete.DETACH, "decisions the person took"),
    Reference("login_card", "printed_by_id", MENTIONS, OnDelete.DETACH, "login cards the person printed"),
    Reference("sign_in_invitation", "created_by_id", MENTIONS, OnDelete.DETACH, "invitations the person created"),
    Reference("api_client", "created_by_id", MENTIONS, OnDelete.DETACH, "partner systems the person registered"),
    Reference("staff_invitation", "created_by_id", MENTIONS, OnDelete.DETACH, "staff invitations the person made"),
    Reference("setting_change", "changed_by_id", MENTIONS, OnDelete.DETACH,
              "settings the person changed (kept under the pseudonym)"),
)


def mention_key(reference: Reference) -> str:
    return f"{reference.table}.{reference.column}"
