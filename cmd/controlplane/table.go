package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"google.golang.org/protobuf/reflect/protoreflect"

	"tollgate.dev/tollgate/internal/model"
	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// none is printed for an empty cell, so columns stay aligned for awk.
const none = "<none>"

// column is one table column after NAME: its header and how to fill it.
type column struct {
	header string
	value  func(model.Object) string
}

// columns are the per-kind columns: what an operator scans for first.
func columns(k model.Kind) []column {
	switch k {
	case model.KindGateway:
		return []column{
			{"MODE", func(o model.Object) string { return o.(*tollgatev1.Gateway).GetSpec().GetMode() }},
			{"NETWORK", func(o model.Object) string { return o.(*tollgatev1.Gateway).GetSpec().GetNetwork() }},
			{"LISTENERS", gatewayListeners},
		}
	case model.KindAPI:
		return []column{
			{"GATEWAYS", func(o model.Object) string { return strings.Join(o.(*tollgatev1.API).GetSpec().GetGateways(), ",") }},
			{"HOSTNAMES", apiHostnames},
			{"ROUTES", func(o model.Object) string { return fmt.Sprint(len(o.(*tollgatev1.API).GetSpec().GetRoutes())) }},
		}
	case model.KindService:
		return []column{{"TARGET", serviceTarget}, {"PROTOCOL", serviceProtocol}}
	case model.KindPolicy:
		return []column{{"TARGET", policyTarget}, {"TYPE", policyType}}
	case model.KindSecret:
		return []column{{"TYPE", func(o model.Object) string { return o.(*tollgatev1.Secret).GetSpec().GetType() }}}
	}
	return nil
}

func printTable(w io.Writer, kind model.Kind, objs []model.Object) error {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	cols := columns(kind)
	headers := []string{"NAME"}
	for _, c := range cols {
		headers = append(headers, c.header)
	}
	headers = append(headers, "RESOURCEVERSION")
	fmt.Fprintln(tw, strings.Join(headers, "\t"))
	for _, o := range objs {
		cells := []string{o.GetMetadata().GetName()}
		for _, c := range cols {
			cells = append(cells, cell(c.value(o)))
		}
		cells = append(cells, cell(o.GetMetadata().GetResourceVersion()))
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

func cell(s string) string {
	if s == "" {
		return none
	}
	return s
}

// gatewayListeners renders "http:80/HTTP,tls:443/HTTPS".
func gatewayListeners(o model.Object) string {
	var parts []string
	for _, l := range o.(*tollgatev1.Gateway).GetSpec().GetListeners() {
		parts = append(parts, fmt.Sprintf("%s:%d/%s", l.GetName(), l.GetPort(), l.GetProtocol()))
	}
	return strings.Join(parts, ",")
}

func apiHostnames(o model.Object) string {
	h := o.(*tollgatev1.API).GetSpec().GetHostnames()
	if len(h) == 0 {
		return "*" // the documented meaning of no hostnames: any host
	}
	return strings.Join(h, ",")
}

// maxEndpointsShown keeps a Service with many endpoints on one line.
const maxEndpointsShown = 3

// serviceTarget is the DNS name and port, or the static endpoints.
func serviceTarget(o model.Object) string {
	s := o.(*tollgatev1.Service).GetSpec()
	if s.GetHostname() != "" {
		return fmt.Sprintf("%s:%d", s.GetHostname(), s.GetPort())
	}
	var parts []string
	for i, ep := range s.GetEndpoints() {
		if i == maxEndpointsShown {
			parts = append(parts, fmt.Sprintf("+%d more", len(s.GetEndpoints())-maxEndpointsShown))
			break
		}
		host := ep.GetAddress()
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		parts = append(parts, fmt.Sprintf("%s:%d", host, ep.GetPort()))
	}
	return strings.Join(parts, ",")
}

func serviceProtocol(o model.Object) string {
	if p := o.(*tollgatev1.Service).GetSpec().GetProtocol(); p != "" {
		return p
	}
	return "HTTP1" // the documented default
}

// policyTarget renders "API/shop", or "API/shop#checkout" for one route.
func policyTarget(o model.Object) string {
	t := o.(*tollgatev1.Policy).GetSpec().GetTargetRef()
	if t.GetKind() == "" && t.GetName() == "" {
		return ""
	}
	s := t.GetKind() + "/" + t.GetName()
	if t.GetRoute() != "" {
		s += "#" + t.GetRoute()
	}
	return s
}

// policyType names the policy bodies that are set (normally exactly one)
// by their manifest field names, read from the schema so a new policy type
// shows up without a change here.
func policyType(o model.Object) string {
	spec := o.(*tollgatev1.Policy).GetSpec()
	if spec == nil {
		return ""
	}
	var types []string
	spec.ProtoReflect().Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		if fd.JSONName() != "targetRef" {
			types = append(types, fd.JSONName())
		}
		return true
	})
	sort.Strings(types) // Range's order is unspecified
	return strings.Join(types, ",")
}
