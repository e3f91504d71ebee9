"""Every model of the application, imported once so that the metadata is complete
(for Alembic, for relationships named by string, and for tests that walk the tables)."""

from competences.models import (  # noqa: F401
    Assessment,
    Capacity,
    Competence,
    Framework,
    FrameworkDomain,
    FrameworkMapping,
    MappingPair,
)
from portfolio.account.models import SignedInSession  # noqa: F401
from portfolio.api.models import ApiClient, ApiToken  # noqa: F401
from portfolio.audit.models import AuditEvent  # noqa: F401
from portfolio.auth.models import LoginCard, Membership, User  # noqa: F401
from portfolio.catalogue.models import (  # noqa: F401
    Module,
    ModuleCompetence,
    ModuleFamily,
    SchemeConfig,
    SettingChange,
)
from portfolio.credentials.models import Credential, CredentialHolder, IssuerKey  # noqa: F401
from portfolio.db import Base  # noqa: F401
from portfolio.enrolment.models import (  # noqa: F401
    Attendance,
    Enrolment,
    PathModule,
    PositioningInterview,
    WorkshopSession,
)
from portfolio.journal.models import EntryTag, JournalEntry, Photo  # noqa: F401
from portfolio.orgs.models import Organisation, OrganisationCertification  # noqa: F401
from portfolio.sharing.models import Consent, Submission  # noqa: F401
from portfolio.sso.models import ExternalIdentity, SignInInvitation  # noqa: F401
from portfolio.staff.models import StaffInvitation  # noqa: F401
from portfolio.stats.models import KeptFigures  # noqa: F401
from portfolio.tickets.models import Ticket, TicketSerial  # noqa: F401
