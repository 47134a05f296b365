package zzdeps
import (
 _ "github.com/hashicorp/go-memdb"
 _ "go.etcd.io/bbolt"
 _ "github.com/spf13/cobra"
 _ "github.com/spf13/viper"
 _ "github.com/prometheus/client_golang/prometheus"
 _ "github.com/prometheus/client_golang/prometheus/promhttp"
 _ "github.com/prometheus/client_golang/prometheus/collectors"
 _ "github.com/fsnotify/fsnotify"
 _ "github.com/stretchr/testify/require"
 _ "github.com/google/go-cmp/cmp"
 _ "google.golang.org/protobuf/testing/protocmp"
 _ "go.yaml.in/yaml/v3"
)
