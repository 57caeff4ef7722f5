package portal

import (
	"context"
	"time"
)

// TicketMirrorStatus says, for monitoring, whether tickets are mirrored from Jira and when the
// mirror last caught up with it (zero: never). It reads the database, so every replica reports
// the same answer whichever of them ran the sync.
func (s *Service) TicketMirrorStatus(ctx context.Context) (remote bool, lastSuccess time.Time, err error) {
	// The store, not the settings cache: a replica that has served no ticket request since Jira
	// was configured would still report built-in ticketing.
	st, err := s.store.GetTicketingSettings(ctx)
	if err != nil {
		return false, time.Time{}, err
	}
	if st.Provider != ProviderJira {
		return false, time.Time{}, nil
	}
	sync, err := s.store.GetSyncState(ctx)
	if err != nil {
		return false, time.Time{}, err
	}
	return true, sync.LastSuccess, nil
}
