package admin

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/store"
)

// metrics are the admin API's Prometheus series. Route labels are the
// route table's names, never raw paths, so cardinality stays fixed.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// auditFailures counts audit records that could not be written; any
	// increase is worth an alert (see Server.record).
	auditFailures prometheus.Counter
}

func newMetrics(reg *prometheus.Registry, st *store.Store) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tollgate_admin_requests_total",
			Help: "Admin API requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tollgate_admin_request_duration_seconds",
			Help:    "Admin API request latency by route and method, including the fsync of writes.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method"}),
		auditFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tollgate_admin_audit_failures_total",
			Help: "Audit records of admin write attempts that could not be written.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.auditFailures, &storeCollector{st: st})
	return m
}

func (m *metrics) observe(route, method string, code int, took time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route, method).Observe(took.Seconds())
}

// storeCollector reports the store's revision and object counts at scrape
// time from one snapshot, so the numbers are mutually consistent.
type storeCollector struct{ st *store.Store }

var (
	revisionDesc = prometheus.NewDesc("tollgate_store_revision", "Current store revision.", nil, nil)
	objectsDesc  = prometheus.NewDesc("tollgate_store_objects", "Stored objects by kind.", []string{"kind"}, nil)
)

// Describe implements prometheus.Collector.
func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- revisionDesc
	ch <- objectsDesc
}

// Collect implements prometheus.Collector.
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	rd := c.st.Read()
	ch <- prometheus.MustNewConstMetric(revisionDesc, prometheus.GaugeValue, float64(rd.Revision()))
	for _, k := range model.Kinds {
		objs, err := rd.List(nil, k)
		if err != nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(objectsDesc, prometheus.GaugeValue, float64(len(objs)), string(k))
	}
}
