package app

import (
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
)

// appMetrics are the serving-side counters /metrics shows next to the
// admin API's: what an operator alerts on when proxies are refused or
// translation keeps starting over.
type appMetrics struct {
	refused *prometheus.CounterVec
}

func newAppMetrics() *appMetrics {
	return &appMetrics{refused: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tollgate_xds_streams_refused_total",
		Help: "xDS streams refused by the identity check, by gRPC code (Unauthenticated: no valid certificate; PermissionDenied: node.cluster is not the certificate's gateway; InvalidArgument: no node).",
	}, []string{"code"})}
}

// refusedStream counts one refusal.
func (m *appMetrics) refusedStream(c codes.Code) { m.refused.WithLabelValues(c.String()).Inc() }

// registerMetrics adds the app's metrics to reg.
func (a *App) registerMetrics(reg *prometheus.Registry) error {
	for _, c := range []prometheus.Collector{
		a.metrics.refused,
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "tollgate_translate_fallbacks_total",
			Help: "Incremental translations that had to start from scratch (a change-log gap or an internal failure).",
		}, func() float64 { return float64(a.inc.Fallbacks()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "tollgate_xds_admission_expired_total",
			Help: "Proxies whose admission slot was taken back because they did not answer their first configuration in time.",
		}, func() float64 { return float64(a.xds.AdmissionExpirations()) }),
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
