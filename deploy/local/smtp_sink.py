"""The local SMTP sink: aiosmtpd's Mailbox handler (every message kept in a maildir), which also
refuses recipients whose local part starts with `reject` with a permanent 550, so that the
notifier's handling of a permanent refusal can be seen and tested without a real mail server.

Run by deploy/local/infra.sh: `python3 -m aiosmtpd -n -l HOST:PORT -c smtp_sink.RejectingMailbox MAILDIR`
with this folder on PYTHONPATH."""
from aiosmtpd.handlers import Mailbox


class RejectingMailbox(Mailbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.split("@", 1)[0].lower().startswith("reject"):
            return "550 5.1.1 <%s>: mailbox unavailable (the local sink refuses reject* addresses)" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"
