// Package config holds the settings of `controlplane serve` as one typed
// struct. They are layered, in increasing precedence, from the embedded
// defaults (defaults.yaml, which doubles as the documented example file), an
// optional YAML config file, CONTROLPLANE_* environment variables and
// command-line flags, decoded once with viper so no untyped map travels
// further. Validate reports every problem at once so an operator fixes them
// in one round instead of one per restart.
package config
