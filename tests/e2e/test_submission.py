#!/usr/bin/env python3
"""Submission profiles end to end: the bundled scenario
profiles/submission.yaml (unmodified) on free ports, STARTTLS then SMTP
AUTH, driven by swaks (--auth PLAIN --tls) and smtplib.

- the free Gmail account meets its daily quota: 500 messages accepted in
  the rolling day (498 through smtplib in one session, the 499th and 500th
  by swaks), then swaks gets 550 5.4.5 with the DailyLimitExceeded link;
- ten bad passwords (swaks) lock the account: 535 5.7.8 each, then 454
  4.7.0 even for the right password;
- AUTH before STARTTLS is 530 5.7.0, MAIL without AUTH 530 5.7.0, a second
  AUTH 503; Microsoft 365 offers LOGIN only;
- --no-tls refuses a scenario with submission profiles (exit 2).

The time scale is 600 (a simulated day is 144 real seconds): the test
takes a few seconds, so the rolling day never turns over inside it on any
reasonable machine; no assertion reads the wall clock.

Usage: test_submission.py --build BUILD_DIR [TEST_NAME ...]
Prints one line per test and ends with "submission: N passed, N failed".
"""
import base64
import os
import shutil
import smtplib
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mxsim_proc import Mxsim, free_ports, read_events, run_suite  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCENARIO = os.path.join(ROOT, "profiles", "submission.yaml")

GMAIL = "127.87.1.10"       # gmail-submission (profiles/submission.yaml)
M365 = "127.87.4.10"        # m365-submission
SCALE = 600
QUOTA = 500                 # profiles/gmail-submission.yaml per_user day


def tls_ctx():
    """Trust mxsim's self-signed certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def plain(user, password):
    return base64.b64encode(("\0%s\0%s" % (user, password)).encode()).decode()


class Suite:
    def __init__(self, build):
        self.build = build
        self.bin = os.path.join(build, "sim", "mxsim")
        self.mx_port, self.sub_port = free_ports(2)
        self.m = None

    def start(self):
        """A fresh mxsim for one test (its event log is complete once
        stop() returned)."""
        self.m = Mxsim(self.bin, ["-c", SCENARIO, "--submission-port",
                                  str(self.sub_port), "-t", str(SCALE),
                                  "-w", "1", "-q"], self.mx_port)

    def events(self):
        """Stop mxsim, then every event it logged."""
        path = self.m.events
        rc, _, err = self.m.stop()
        self.m = None
        assert rc == 0, err
        return read_events(path)

    def close(self):
        if self.m is not None:
            self.m.stop()

    def session(self, mx, source, tls=True):
        """An SMTP connection to a submission address from @source, EHLO
        (and STARTTLS, EHLO again when @tls)."""
        s = smtplib.SMTP(timeout=20)
        s.connect(mx, self.sub_port, source_address=(source, 0))
        s.ehlo("client.test")
        if tls:
            s._host = "smtp.test"
            s.starttls(context=tls_ctx())
            s.ehlo("client.test")
        return s

    def swaks(self, source, user, password, to="x@example.net",
              quit_after=None):
        """swaks --auth PLAIN --tls to the Gmail submission address;
        returns its transcript."""
        if shutil.which("swaks") is None:
            raise AssertionError("swaks is not installed")
        cmd = ["swaks", "--server", "%s:%d" % (GMAIL, self.sub_port),
               "--local-interface", source, "--tls",
               "--auth", "PLAIN", "--auth-user", user,
               "--auth-password", password,
               "--from", user, "--to", to, "--timeout", "20"]
        if quit_after:
            cmd += ["--quit-after", quit_after]
        r = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        return r.stdout.decode(errors="replace")

    def test_daily_quota(self):
        """500 messages in the rolling day, then 550 5.4.5 with its link
        at MAIL, through swaks --auth PLAIN --tls."""
        user, pw = "alice@gmail.com", "alice-app-password"
        self.start()
        s = self.session(GMAIL, "127.0.87.1")
        assert "PLAIN" in s.esmtp_features.get("auth", ""), s.esmtp_features
        s.login(user, pw)
        body = "From: <%s>\r\nSubject: q\r\n\r\nhello\r\n" % user
        for i in range(QUOTA - 2):
            s.sendmail(user, ["r%d@example.net" % i], body)
        s.quit()
        for i in range(2):
            out = self.swaks("127.0.87.2", user, pw)
            assert "<~  235 2.7.0" in out, out
            assert "<~  250 2.0.0 OK" in out, out
        out = self.swaks("127.0.87.2", user, pw)
        assert "<~* 550-5.4.5 Daily user sending quota exceeded." in out, out
        assert "https://support.google.com/mail/?p=DailyLimitExceeded" in out, out
        ev = [e for e in self.events()
              if e["provider"] == "gmail-submission"
              and e["client"] in ("127.0.87.1", "127.0.87.2")]
        accepted = [e for e in ev if e["reason"] == "ok.message"]
        refused = [e for e in ev if e["reason"] == "submit.messages"]
        assert len(accepted) == QUOTA, len(accepted)
        assert len(refused) == 1 and refused[0]["stage"] == "mail", refused
        assert refused[0]["code"] == 550 and refused[0]["enhanced"] == "5.4.5"
        print("    %d accepted, then %s %s at %s; simulated %.1f h at x%d" % (
            len(accepted), refused[0]["code"], refused[0]["enhanced"],
            refused[0]["stage"],
            (refused[0]["sim_ms"] - ev[0]["sim_ms"]) / 3600000.0, SCALE))

    def test_lockout(self):
        """Ten bad passwords: 535 5.7.8 each, then 454 4.7.0 even for the
        right one (profiles/gmail-submission.yaml lockout)."""
        user = "bob@gmail.com"
        self.start()
        for i in range(10):
            out = self.swaks("127.0.87.3", user, "wrong-%d" % i,
                             quit_after="AUTH")
            assert "<~* 535-5.7.8 Username and Password not accepted." in out, out
        out = self.swaks("127.0.87.3", user, "bob-app-password",
                         quit_after="AUTH")
        assert "<~* 454-4.7.0 Too many login attempts" in out, out
        ev = [e for e in self.events()
              if e["client"] == "127.0.87.3" and e["stage"] == "auth"]
        assert [e["reason"] for e in ev] == (["submit.bad_credentials"] * 10
                                            + ["submit.locked"]), ev

    def test_order(self):
        """AUTH before STARTTLS 530 5.7.0; MAIL without AUTH 530 5.7.0;
        a second AUTH 503."""
        self.start()
        s = self.session(GMAIL, "127.0.87.4", tls=False)
        assert "auth" not in s.esmtp_features, s.esmtp_features
        code, text = s.docmd("AUTH PLAIN " + plain("alice@gmail.com", "x"))
        assert code == 530 and b"STARTTLS" in text, (code, text)
        s.close()
        s = self.session(GMAIL, "127.0.87.4")
        code, text = s.docmd("MAIL FROM:<alice@gmail.com>")
        assert code == 530 and b"WantAuthError" in text, (code, text)
        code, _ = s.docmd("AUTH PLAIN " + plain("alice@gmail.com",
                                               "alice-app-password"))
        assert code == 235, code
        code, _ = s.docmd("AUTH PLAIN " + plain("alice@gmail.com",
                                               "alice-app-password"))
        assert code == 503, code
        s.quit()
        self.m.stop()
        self.m = None

    def test_m365_login_only(self):
        """Microsoft 365 offers AUTH LOGIN only; PLAIN is 504."""
        self.start()
        s = self.session(M365, "127.0.87.5")
        assert s.esmtp_features.get("auth", "").strip() == "LOGIN", \
            s.esmtp_features
        code, _ = s.docmd("AUTH PLAIN " + plain("dave@contoso.example",
                                               "dave-password"))
        assert code == 504, code
        s.login("dave@contoso.example", "dave-password")
        s.quit()
        self.m.stop()
        self.m = None

    def test_no_tls_refused(self):
        """Submission profiles need STARTTLS: --no-tls exits 2."""
        r = subprocess.run([self.bin, "-c", SCENARIO, "--no-tls",
                            "--port", str(self.mx_port)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30)
        assert r.returncode == 2, r
        assert b"submission profiles" in r.stderr, r.stderr


if __name__ == "__main__":
    sys.exit(run_suite("submission", Suite))
