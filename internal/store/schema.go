package store

import (
	"fmt"

	"github.com/hashicorp/go-memdb"

	"tollgate.dev/tollgate/internal/model"
)

// Table names: one table per kind, plus the meta table whose single row holds
// the revision, so the revision is part of every snapshot.
const (
	tableGateways = "gateways"
	tableServices = "services"
	tableAPIs     = "apis"
	tablePolicies = "policies"
	tableSecrets  = "secrets"
	tableMeta     = "meta"
	// tableChanges is the change log of recent commits (changes.go).
	tableChanges = "changes"
)

// Index names. Each index is described where it is declared, with the query
// that needs it.
const (
	indexID      = "id"
	indexGateway = "gateway"
	indexService = "service"
	indexTarget  = "target"
	indexSecret  = "secret"
)

// metaRevision is the ID of the meta row holding the revision.
const metaRevision = "revision"

// metaRow is the one row of the meta table.
type metaRow struct {
	ID       string
	Revision uint64
}

// schema returns the memdb schema of the store.
func schema() *memdb.DBSchema {
	return &memdb.DBSchema{Tables: map[string]*memdb.TableSchema{
		tableGateways: gatewaysTable(),
		tableServices: servicesTable(),
		tableAPIs:     apisTable(),
		tablePolicies: policiesTable(),
		tableSecrets:  secretsTable(),
		tableMeta:     metaTable(),
		tableChanges:  changesTable(),
	}}
}

func gatewaysTable() *memdb.TableSchema {
	return &memdb.TableSchema{Name: tableGateways, Indexes: indexes(
		// id: Get/List of gateways by name.
		idIndex(),
		// secret: SecretReferrers and Referrers(Secret) — listener certificates and client CAs.
		refIndex(indexSecret, model.KindSecret, false),
		// service: Referrers(Service) — TCP listener backends.
		refIndex(indexService, model.KindService, false),
	)}
}

func servicesTable() *memdb.TableSchema {
	return &memdb.TableSchema{Name: tableServices, Indexes: indexes(
		// id: Get/List of services by name.
		idIndex(),
		// secret: SecretReferrers and Referrers(Secret) — upstream CA and client certificate.
		refIndex(indexSecret, model.KindSecret, false),
	)}
}

func apisTable() *memdb.TableSchema {
	return &memdb.TableSchema{Name: tableAPIs, Indexes: indexes(
		// id: Get/List of APIs by name.
		idIndex(),
		// gateway: APIsByGateway (what a gateway serves) and Referrers(Gateway).
		refIndex(indexGateway, model.KindGateway, false),
		// service: APIsByService and Referrers(Service) — route backends.
		refIndex(indexService, model.KindService, false),
	)}
}

func policiesTable() *memdb.TableSchema {
	return &memdb.TableSchema{Name: tablePolicies, Indexes: indexes(
		// id: Get/List of policies by name.
		idIndex(),
		// target: PoliciesByTarget and Referrers of Gateways, APIs and Services,
		// keyed "Kind/name" because one policy table targets three kinds.
		refIndex(indexTarget, "", true),
	)}
}

func secretsTable() *memdb.TableSchema {
	return &memdb.TableSchema{Name: tableSecrets, Indexes: indexes(
		// id: Get/List of secrets by name.
		idIndex(),
	)}
}

func metaTable() *memdb.TableSchema {
	return &memdb.TableSchema{Name: tableMeta, Indexes: indexes(
		// id: the revision row, read by every snapshot's Revision.
		&memdb.IndexSchema{Name: indexID, Unique: true, Indexer: &memdb.StringFieldIndex{Field: "ID"}},
	)}
}

func indexes(list ...*memdb.IndexSchema) map[string]*memdb.IndexSchema {
	m := make(map[string]*memdb.IndexSchema, len(list))
	for _, ix := range list {
		m[ix.Name] = ix
	}
	return m
}

func idIndex() *memdb.IndexSchema {
	return &memdb.IndexSchema{Name: indexID, Unique: true, Indexer: nameIndexer{}}
}

func refIndex(name string, to model.Kind, qualified bool) *memdb.IndexSchema {
	return &memdb.IndexSchema{Name: name, AllowMissing: true, Indexer: refIndexer{to: to, qualified: qualified}}
}

// tableOf maps a kind to its table.
func tableOf(k model.Kind) (string, error) {
	switch k {
	case model.KindGateway:
		return tableGateways, nil
	case model.KindService:
		return tableServices, nil
	case model.KindAPI:
		return tableAPIs, nil
	case model.KindPolicy:
		return tablePolicies, nil
	case model.KindSecret:
		return tableSecrets, nil
	}
	return "", k.Validate()
}

// indexValue is a memdb string index value: the string and a NUL terminator,
// so that "orders" never matches "orders-v2" in a prefix scan.
func indexValue(s string) []byte {
	b := make([]byte, 0, len(s)+1)
	b = append(b, s...)
	return append(b, 0)
}

// stringArg is FromArgs for indexes queried by one string.
func stringArg(args []any) ([]byte, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("index takes one argument, got %d", len(args))
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("index argument must be a string, got %T", args[0])
	}
	return indexValue(s), nil
}

// nameIndexer indexes objects by metadata.name.
type nameIndexer struct{}

// FromObject implements memdb.SingleIndexer.
func (nameIndexer) FromObject(raw any) (bool, []byte, error) {
	o, ok := raw.(model.Object)
	if !ok {
		return false, nil, fmt.Errorf("name index: unexpected %T", raw)
	}
	name := o.GetMetadata().GetName()
	return name != "", indexValue(name), nil
}

// FromArgs implements memdb.Indexer.
func (nameIndexer) FromArgs(args ...any) ([]byte, error) { return stringArg(args) }

// refIndexer indexes objects by what they reference, as model.References
// reports it, so the indexes and the integrity checks can never disagree
// about what a reference is. With to set, only references to that kind are
// indexed, by name; with qualified, values are "Kind/name".
type refIndexer struct {
	to        model.Kind
	qualified bool
}

// FromObject implements memdb.MultiIndexer. Values are de-duplicated: an API
// sending two routes to one service is one index entry.
func (x refIndexer) FromObject(raw any) (bool, [][]byte, error) {
	o, ok := raw.(model.Object)
	if !ok {
		return false, nil, fmt.Errorf("reference index: unexpected %T", raw)
	}
	var vals [][]byte
	seen := map[string]bool{}
	for _, r := range model.References(o) {
		if x.to != "" && r.To.Kind != x.to {
			continue
		}
		v := r.To.Name
		if x.qualified {
			v = r.To.String()
		}
		if !seen[v] {
			seen[v] = true
			vals = append(vals, indexValue(v))
		}
	}
	return len(vals) > 0, vals, nil
}

// FromArgs implements memdb.Indexer.
func (refIndexer) FromArgs(args ...any) ([]byte, error) { return stringArg(args) }
