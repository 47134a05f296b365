package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/audit"
)

func openAudit(t testing.TB) *audit.Log {
	t.Helper()
	l, err := audit.Open(filepath.Join(t.TempDir(), "audit.log"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// wantRecord is what one write attempt must leave in the audit log.
type wantRecord struct {
	actor   string
	outcome audit.Outcome
	status  int
	reason  Reason
	objects []string
	dryRun  bool
}

// TestOneAuditRecordPerWriteAttempt sends write attempts of every kind of
// outcome, interleaved with reads, and checks the log holds exactly one
// matching line per attempt and no secret material.
func TestOneAuditRecordPerWriteAttempt(t *testing.T) {
	log := openAudit(t)
	ca := newFakeCA(t)
	env := newEnv(t, Options{Audit: log, CA: ca})
	// A second server in read-only mode writes to the same log.
	ro := &testEnv{t: t, st: env.st, tokens: env.tokens, srv: New(env.st, Options{Audit: log, Auth: env.srv.opts.Auth, ReadOnly: "definitions come from files"})}
	cert, key := selfSigned(t, "shop.example.com", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	secret := fmt.Sprintf("apiVersion: tollgate.dev/v1\nkind: Secret\nmetadata: {name: shop-tls}\nspec:\n  type: tls\n  certificate: |\n%s\n  privateKey: |\n%s\n",
		indent(cert, "    "), indent(key, "    "))
	csr, _ := newCSR(t)
	reads := func() {
		for _, p := range []string{"/v1/apis", "/v1/status", "/metrics", "/v1/audit", "/healthz", "/v1/ca"} {
			require.Less(t, env.do("GET", p, "").code, 300, p)
		}
		require.Equal(t, http.StatusOK, env.do("HEAD", "/v1/apis", "").code)
	}
	steps := auditSteps(env, ro, secret, csr)
	for i, st := range steps {
		reads()
		r := st.do()
		require.Equal(t, st.want.status, r.code, "step %d: %s", i, r.body)
		recs, err := audit.Read(log.Path())
		require.NoError(t, err)
		require.Len(t, recs, i+1, "step %d: exactly one record per write attempt, none per read", i)
		got := recs[i]
		require.Equal(t, st.want.actor, got.Actor, "step %d", i)
		require.Equal(t, st.want.outcome, got.Outcome, "step %d", i)
		require.Equal(t, st.want.status, got.Status, "step %d", i)
		require.Equal(t, string(st.want.reason), got.Reason, "step %d", i)
		require.Equal(t, st.want.objects, got.Objects, "step %d", i)
		require.Equal(t, st.want.dryRun, got.DryRun, "step %d", i)
		require.NotContains(t, got.Query, "token", "step %d: only understood parameters are recorded", i)
		require.NotEmpty(t, got.Remote, "step %d", i)
	}
	b, err := os.ReadFile(log.Path())
	require.NoError(t, err)
	keyLine := strings.Split(strings.TrimSpace(key), "\n")[1]
	certLine := strings.Split(strings.TrimSpace(cert), "\n")[1]
	for _, secretText := range []string{keyLine, certLine, "PRIVATE KEY", "BEGIN CERTIFICATE", "tgj_guess", "leak", env.tokens[RoleViewer], env.tokens[RoleAdmin]} {
		require.NotContains(t, string(b), secretText, "the audit log holds no secret material")
	}
	recs, _ := audit.Read(log.Path())
	require.Equal(t, "admin", recs[0].Role)
	require.Equal(t, "viewer", recs[4].Role)
	require.Equal(t, "dryRun=true", recs[1].Query)
}

// auditStep is one write attempt and the record it must leave.
type auditStep struct {
	do   func() response
	want wantRecord
}

// auditSteps are write attempts with every outcome: ok, dry run,
// validation, 401, 403, 413, read-only 409, 405, a bad join token, an
// issued certificate and a Secret with key material.
func auditSteps(env, ro *testEnv, secret, csr string) []auditStep {
	viewer := "Bearer " + env.tokens[RoleViewer]
	invalid := "apiVersion: tollgate.dev/v1\nkind: Service\nmetadata: {name: Bad_Name}\nspec: {endpoints: [{address: 10.0.0.1, port: 80}]}\n"
	return []auditStep{
		{
			func() response { return env.do("POST", "/v1/apply", baseBundle) },
			wantRecord{"admin-user", audit.OutcomeOK, 200, "", []string{"Gateway/edge", "Service/orders", "API/shop"}, false},
		},
		{
			func() response { return env.do("POST", "/v1/apply?dryRun=true&token=leak", baseBundle) },
			wantRecord{"admin-user", audit.OutcomeOK, 200, "", []string{"Gateway/edge", "Service/orders", "API/shop"}, true},
		},
		{
			func() response { return env.do("POST", "/v1/apply", invalid) },
			wantRecord{"admin-user", audit.OutcomeRejected, 400, ReasonInvalid, nil, false},
		},
		{
			func() response { return env.do("PUT", "/v1/services/orders", baseBundle, "Authorization", "") },
			wantRecord{"", audit.OutcomeUnauthenticated, 401, ReasonUnauthenticated, []string{"Service/orders"}, false},
		},
		{
			func() response { return env.do("DELETE", "/v1/apis/shop", "", "Authorization", viewer) },
			wantRecord{"viewer-user", audit.OutcomeDenied, 403, ReasonForbidden, []string{"API/shop"}, false},
		},
		{
			func() response { return env.do("POST", "/v1/apply", strings.Repeat("a", DefaultMaxBodyBytes+1)) },
			wantRecord{"admin-user", audit.OutcomeRejected, 413, ReasonTooLarge, nil, false},
		},
		{
			func() response { return ro.do("PUT", "/v1/services/orders", baseBundle) },
			wantRecord{"admin-user", audit.OutcomeRejected, 409, ReasonReadOnly, []string{"Service/orders"}, false},
		},
		{
			func() response { return env.do("POST", "/v1/status", "") },
			wantRecord{"admin-user", audit.OutcomeRejected, 405, ReasonMethodNotAllowed, nil, false},
		},
		{func() response {
			return env.do("POST", "/v1/join", jsonBody("token", "tgj_guess", "csr", csr), "Authorization", "", "Content-Type", "application/json")
		}, wantRecord{"join-token", audit.OutcomeUnauthenticated, 401, ReasonInvalidJoinToken, nil, false}},
		{
			func() response {
				return env.do("POST", "/v1/gateways/edge/certificates", jsonBody("csr", csr), jsonCT...)
			},
			wantRecord{"admin-user", audit.OutcomeOK, 200, "", []string{"Gateway/edge"}, false},
		},
		{
			func() response { return env.do("PUT", "/v1/secrets/shop-tls", secret) },
			wantRecord{"admin-user", audit.OutcomeOK, 201, "", []string{"Secret/shop-tls"}, false},
		},
		{
			func() response { return env.do("DELETE", "/v1/secrets/shop-tls?dryRun=true", "") },
			wantRecord{"admin-user", audit.OutcomeOK, 200, "", []string{"Secret/shop-tls"}, true},
		},
	}
}

func TestAuditTail(t *testing.T) {
	log := openAudit(t)
	env := newEnv(t, Options{Audit: log})
	for range 3 {
		env.apply(baseBundle)
	}
	env.do("DELETE", "/v1/apis/shop", "")
	r := env.do("GET", "/v1/audit?limit=2", "")
	require.Equal(t, http.StatusOK, r.code, "%s", r.body)
	var body struct{ Records []audit.Record }
	r.json(t, &body)
	require.Len(t, body.Records, 2)
	require.Equal(t, "DELETE", body.Records[1].Method)
	require.Equal(t, http.StatusBadRequest, env.do("GET", "/v1/audit?limit=0", "").code)
	require.Equal(t, http.StatusBadRequest, env.do("GET", "/v1/audit?limit=5000", "").code)
	require.Equal(t, http.StatusForbidden, env.do("GET", "/v1/audit", "", "Authorization", "Bearer "+env.tokens[RoleEditor]).code)

	noFile := newEnv(t, Options{Audit: audit.New(&strings.Builder{})})
	require.Equal(t, http.StatusNotFound, noFile.do("GET", "/v1/audit", "").code)
	require.Equal(t, http.StatusNotFound, newEnv(t, Options{}).do("GET", "/v1/audit", "").code)
}

// auditProbe is an audit writer that checks, when a record arrives, that
// the client has not been answered yet, and can be told to fail.
type auditProbe struct {
	rec  *httptest.ResponseRecorder
	fail bool
	t    *testing.T
}

func (p *auditProbe) Write(b []byte) (int, error) {
	require.Zero(p.t, p.rec.Body.Len(), "the answer must wait for the audit record")
	require.False(p.t, p.rec.Flushed)
	if p.fail {
		return 0, errors.New("disk full")
	}
	return len(b), nil
}

func TestAuditBeforeAnswerAndFailure(t *testing.T) {
	probe := &auditProbe{t: t}
	reg := prometheus.NewRegistry()
	env := newEnv(t, Options{Audit: audit.New(probe), Registry: reg})
	send := func() *httptest.ResponseRecorder {
		probe.rec = httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/v1/apply", strings.NewReader(baseBundle))
		req.Header.Set("Content-Type", "application/yaml")
		env.srv.ServeHTTP(probe.rec, env.authorize(req))
		return probe.rec
	}
	require.Equal(t, http.StatusOK, send().Code)

	// A lost record does not turn a committed write into an error; it is
	// counted for alerting.
	probe.fail = true
	rec := send()
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), `"revision"`)
	m := env.do("GET", "/metrics", "")
	require.Contains(t, string(m.body), "tollgate_admin_audit_failures_total 1")
}
