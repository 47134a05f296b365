package xds

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"tollgate.dev/tollgate/internal/model"
)

func TestNewNACKBlame(t *testing.T) {
	e := func(name string, src ...string) *entry {
		en := &entry{name: name}
		for _, s := range src {
			en.sources = append(en.sources, model.Key{Kind: model.KindAPI, Name: s})
		}
		return en
	}
	orders, users, shared := e("orders-route", "orders"), e("users-route", "users"), e("shared", "orders", "users")
	tests := []struct {
		name      string
		rec       sentRecord
		msg       string
		resources []string
		sources   []string
	}{
		{
			name:      "named in the message",
			rec:       sentRecord{resources: []*entry{orders, users}, changed: []*entry{orders, users}},
			msg:       `Error adding/updating listener(s) users-route: bad regex`,
			resources: []string{"users-route"}, sources: []string{"users"},
		},
		{
			name:      "whole names only: c1 is not blamed for c10",
			rec:       sentRecord{resources: []*entry{e("svc/c1", "c1"), e("svc/c10", "c10")}, changed: []*entry{e("svc/c1", "c1"), e("svc/c10", "c10")}},
			msg:       `cluster "svc/c10": invalid port`,
			resources: []string{"svc/c10"}, sources: []string{"c10"},
		},
		{
			name:      "a name at the end of the message",
			rec:       sentRecord{resources: []*entry{orders, users}, changed: []*entry{orders, users}},
			msg:       `rejected orders-route`,
			resources: []string{"orders-route"}, sources: []string{"orders"},
		},
		{
			name:      "unnamed: what the response changed",
			rec:       sentRecord{resources: []*entry{orders, users}, changed: []*entry{orders}},
			msg:       "something failed",
			resources: []string{"orders-route"}, sources: []string{"orders"},
		},
		{
			name:      "nothing changed: everything it carried, sources deduplicated",
			rec:       sentRecord{resources: []*entry{shared, users}},
			msg:       "something failed",
			resources: []string{"shared", "users-route"}, sources: []string{"orders", "users"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNACK(tt.rec, tt.msg, time.Unix(0, 0))
			assert.Equal(t, tt.resources, n.Resources)
			var got []string
			for _, k := range n.Sources {
				got = append(got, k.Name)
			}
			assert.Equal(t, tt.sources, got)
			assert.Equal(t, tt.msg, n.Message)
		})
	}
}
