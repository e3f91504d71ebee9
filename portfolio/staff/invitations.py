"""What an invitation becomes for its reader: the e-mail that carries the link, and the printed access card."""

from __future__ import annotations

from flask import current_app, render_template, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from portfolio import mail
from portfolio.auth.models import User
from portfolio.pdf import render_pdf
from portfolio.staff import services
from portfolio.staff.models import StaffInvitation
from portfolio.timeutil import LOCAL_TZ


def send_invitation(session: Session, invitation: StaffInvitation, account: User, link: str,
                    inviter: User | None) -> bool:
    """Send the link to ``invitation.sent_to``; False (and the invitation marked as shown) when no SMTP server
    is configured or the message could not be handed over: the inviter is then shown the link to hand over."""
    if not invitation.sent_to or not mail.configured():
        services.mark_shown(session, invitation)
        return False
    body = render_template("staff/invitation_email.txt", account=account, link=link, inviter=inviter,
                           roles=services.memberships_of(session, account), role_labels=services.ROLE_LABELS,
                           expires=format_date(invitation.expires_at.astimezone(LOCAL_TZ), "long"))
    try:
        mail.send(invitation.sent_to, _("Votre accès à Ticket Net"), body)
    except mail.MailError:
        services.mark_shown(session, invitation)
        return False
    return True


def access_card_pdf(account: User, code: str, days: int) -> bytes:
    """The printed access card of a staff member: username, one-time code, where to go (one page)."""
    memberships = sorted(account.memberships, key=lambda m: (m.organisation.name, m.role))
    return render_pdf("staff/access_card_pdf.html", account=account, code=code, days=days, memberships=memberships,
                      role_labels=services.ROLE_LABELS, lead_label=services.LEAD_LABEL,
                      first_sign_in_url=url_for("auth.first_sign_in", _external=True),
                      site=current_app.config["PUBLIC_URL"])
