package notify

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"
)

// Email sends messages over SMTP with STARTTLS required (go-mail's
// TLSMandatory policy): a customer message to its own recipients, any
// other to the configured ones. The Message-ID is derived from the
// idempotency key, so a repeat after a crash carries the same ID and mail
// systems that de-duplicate by Message-ID drop it; the key is also in the
// X-Orgguard-Idempotency-Key header.
type Email struct {
	ChannelName string
	cfg         SMTP
	password    string
	timeout     time.Duration
	tls         *tls.Config
}

func newEmail(cc ChannelConfig, password string, timeout time.Duration) (*Email, error) {
	e := &Email{ChannelName: cc.Name, cfg: cc.SMTP, password: password, timeout: timeout, tls: &tls.Config{ServerName: cc.SMTP.Host, MinVersion: tls.VersionTLS12}}
	if cc.SMTP.CAFile != "" {
		pem, err := os.ReadFile(cc.SMTP.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading smtp.caFile: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("smtp.caFile %s holds no PEM certificate", cc.SMTP.CAFile)
		}
		e.tls.RootCAs = pool
	}
	return e, nil
}

// NewEmail returns an email channel with its TLS configuration given (for
// tests and tools); password is the SMTP password, "" for none.
func NewEmail(name string, cfg SMTP, password string, tlsConfig *tls.Config) *Email {
	return &Email{ChannelName: name, cfg: cfg, password: password, timeout: 10 * time.Second, tls: tlsConfig}
}

// Name implements Channel.
func (e *Email) Name() string { return e.ChannelName }

// Parallel implements Channel.
func (e *Email) Parallel() int { return 1 }

// HeaderMailIdempotency carries the idempotency key in e-mails.
const HeaderMailIdempotency = "X-Orgguard-Idempotency-Key"

// Send implements Channel.
func (e *Email) Send(ctx context.Context, d Delivery) error {
	m := d.Message
	to := m.To
	if len(to) == 0 {
		to = e.cfg.To
	}
	if len(to) == 0 {
		return permanent(fmt.Errorf("channel %s: message %s has no recipient", e.ChannelName, d.Key))
	}
	msg := mail.NewMsg()
	if err := msg.From(e.cfg.From); err != nil {
		return permanent(fmt.Errorf("channel %s: from address: %w", e.ChannelName, err))
	}
	if err := msg.To(to...); err != nil {
		return permanent(fmt.Errorf("channel %s: recipients of message %s: %w", e.ChannelName, d.Key, err))
	}
	msg.Subject(headline(m))
	msg.SetMessageIDWithValue(MessageID(d.Key, e.cfg.From))
	msg.SetGenHeader(mail.Header(HeaderMailIdempotency), d.Key)
	if !m.At.IsZero() {
		msg.SetDateWithValue(m.At)
	} else {
		msg.SetDate()
	}
	body := m.Text
	for _, f := range m.Fields {
		body += "\n" + f.Name + ": " + f.Value
	}
	msg.SetBodyString(mail.TypeTextPlain, body)
	opts := []mail.Option{mail.WithTLSPolicy(mail.TLSMandatory), mail.WithTLSConfig(e.tls), mail.WithTimeout(e.timeout)}
	port := e.cfg.Port
	if port == 0 {
		port = 587
	}
	opts = append(opts, mail.WithPort(port))
	if e.cfg.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(e.cfg.Username), mail.WithPassword(e.password))
	}
	c, err := mail.NewClient(e.cfg.Host, opts...)
	if err != nil {
		return permanent(fmt.Errorf("channel %s: %s", e.ChannelName, redact(err.Error(), e.password)))
	}
	err = c.DialAndSendWithContext(ctx, msg)
	if err == nil {
		return nil
	}
	out := fmt.Errorf("channel %s: sending message %s: %s", e.ChannelName, d.Key, redact(err.Error(), e.password))
	var se *mail.SendError
	if errors.As(err, &se) && !se.IsTemp() && se.ErrorCode() >= 500 {
		return permanent(out)
	}
	return out
}

// MessageID derives a stable Message-ID from an idempotency key.
func MessageID(key, from string) string {
	h := sha256.Sum256([]byte(key))
	domain := "orgguard.invalid"
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" {
		domain = strings.Trim(d, "> ")
	}
	return "orgguard." + hex.EncodeToString(h[:16]) + "@" + domain
}
