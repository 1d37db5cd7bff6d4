package app_test

import (
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/app"
	"github.com/parley-chat/parley/internal/testenv"
)

// TestRateSettings: a PARLEY_LIMIT_* or file setting chatd cannot keep is refused at
// start-up with the variable's name and the rule it broke.
func TestRateSettings(t *testing.T) {
	cases := []struct {
		name, variable, value string
		want                  []string // empty: accepted
	}{
		{"OK", "PARLEY_LIMIT_CALLS", "100000/100s", nil},
		{"OKThousandPerSecond", "PARLEY_LIMIT_SEND", "1000/1s", nil},
		{"ErrTooFast", "PARLEY_LIMIT_CALLS", "1000000/100s",
			[]string{"PARLEY_LIMIT_CALLS", "at most 1,000 events per second", "at least N milliseconds", "for example 1000000/16m40s"}},
		{"ErrNotARate", "PARLEY_LIMIT_LOGIN_IP", "lots", []string{"PARLEY_LIMIT_LOGIN_IP", "N/duration", "10/10s"}},
		{"OKFriendRequests", "PARLEY_LIMIT_FRIEND_REQUEST", "5/1h", nil},
		{"ErrFriendRequests", "PARLEY_LIMIT_FRIEND_REQUEST", "20", []string{"PARLEY_LIMIT_FRIEND_REQUEST", "N/duration"}},
		{"OKUploads", "PARLEY_LIMIT_UPLOAD", "10/1m", nil},
		{"ErrUploads", "PARLEY_LIMIT_UPLOAD", "many", []string{"PARLEY_LIMIT_UPLOAD", "N/duration"}},
		{"ErrUploadMax", "PARLEY_UPLOAD_MAX_BYTES", "25MiB", []string{"PARLEY_UPLOAD_MAX_BYTES must be a positive number"}},
		{"ErrQuota", "PARLEY_UPLOAD_QUOTA_BYTES", "0", []string{"PARLEY_UPLOAD_QUOTA_BYTES must be a positive number"}},
		{"ErrURLTTL", "PARLEY_FILE_URL_TTL", "1 hour", []string{"PARLEY_FILE_URL_TTL must be a positive duration"}},
		{"ErrS3WithoutKeys", "PARLEY_S3_ENDPOINT", "http://127.0.0.1:8333", []string{"PARLEY_S3_ACCESS_KEY and PARLEY_S3_SECRET_KEY"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{tc.variable: tc.value}
			_, err := app.ParseConfig(nil, func(k string) string { return env[k] }, io.Discard)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("%s=%s refused: %v", tc.variable, tc.value, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("%s=%s accepted", tc.variable, tc.value)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestProfileContentionSetting: PARLEY_PROFILE_CONTENTION is a boolean, off
// unless set, and anything else is refused by name.
func TestProfileContentionSetting(t *testing.T) {
	for value, want := range map[string]bool{"": false, "true": true, "false": false, "1": true} {
		cfg, err := app.ParseConfig(nil, func(k string) string {
			return map[string]string{"PARLEY_PROFILE_CONTENTION": value}[k]
		}, io.Discard)
		if err != nil || cfg.ProfileContention != want {
			t.Errorf("PARLEY_PROFILE_CONTENTION=%q: %v, %v; want %v", value, cfg.ProfileContention, err, want)
		}
	}
	_, err := app.ParseConfig(nil, func(k string) string {
		return map[string]string{"PARLEY_PROFILE_CONTENTION": "sometimes"}[k]
	}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "PARLEY_PROFILE_CONTENTION must be true or false") {
		t.Errorf("PARLEY_PROFILE_CONTENTION=sometimes: %v", err)
	}
}

// TestProfileContentionSamples: a chatd started with
// PARLEY_PROFILE_CONTENTION=true samples contended locks, so
// /debug/pprof/mutex on its admin listener has something to show.
func TestProfileContentionSamples(t *testing.T) {
	env := testenv.ServerEnv(t)
	env["PARLEY_PROFILE_CONTENTION"] = "true"
	t.Cleanup(func() { runtime.SetMutexProfileFraction(0); runtime.SetBlockProfileRate(0) })
	testenv.Start(t, env)
	if got := runtime.SetMutexProfileFraction(-1); got == 0 {
		t.Fatal("PARLEY_PROFILE_CONTENTION=true left the mutex profile off")
	}
}
