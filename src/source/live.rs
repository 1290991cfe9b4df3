//! A live cluster as a [`Source`], beside the snapshot reader: the cluster module connects
//! and lists (read-only, guarded); this one types what was listed into a [`ClusterState`]
//! with the snapshot reader's own ingestion, so both sources give the analyzers the same
//! state.

use super::{Scope, Source};
use crate::cluster::{Cluster, ClusterError, Connected, Target, collect};
use crate::state::{ClusterState, SourceInfo, SourceKind};

/// Type what was collected into a [`ClusterState`] with the snapshot reader's ingestion (one
/// code path for both sources).
pub fn into_state(c: collect::Collected) -> ClusterState {
    let mut st = ClusterState::default();
    for (k, items) in c.lists {
        for (i, mut item) in items.into_iter().enumerate() {
            // Lists carry the kind on the list, not on each item.
            if let Some(m) = item.as_object_mut() {
                m.entry("kind").or_insert_with(|| k.kind.into());
            }
            crate::source::snapshot::ingest_live(
                item,
                k.kind,
                &format!("{} #{i}", k.plural),
                &mut st,
            );
        }
    }
    for l in c.logs {
        st.logs.add(
            &l.namespace,
            &l.pod,
            crate::logs::LogBlob::Text {
                container: Some(l.container),
                previous: l.previous,
                text: l.text.into(),
            },
        );
    }
    st.report.unreadable_kinds = c.unreadable;
    if !c.logs_missing.is_empty() {
        st.report.unreadable_kinds.push((
            "logs".into(),
            format!(
                "{} failing container log(s) not fetched: {}",
                c.logs_missing.len(),
                c.logs_missing
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ));
    }
    st.observed_at = Some(jiff::Timestamp::now());
    st.index_events();
    st
}

/// A live cluster as a [`Source`].
pub struct LiveSource {
    pub target: Target,
    pub options: collect::Options,
    /// Filled by [`Source::info`] once connected.
    context: std::sync::OnceLock<String>,
}

impl LiveSource {
    pub fn new(target: Target, options: collect::Options) -> LiveSource {
        LiveSource {
            target,
            options,
            context: std::sync::OnceLock::new(),
        }
    }

    /// Connect and collect, on the caller's runtime (the client's background worker lives
    /// on the runtime that built it: keep using the [`Cluster`] only there).
    pub async fn collect_async(
        &self,
        scope: &Scope,
    ) -> Result<(Cluster, collect::Collected), ClusterError> {
        let cluster = Cluster::connect(&self.target).await?;
        let _ = self.context.set(cluster.context.clone());
        let mut o = self.options.clone();
        if let Scope::Namespace(ns) = scope {
            o.namespace = Some(ns.clone());
        }
        let c = cluster.collect(&o).await?;
        tracing::info!(requests = c.requests, context = %cluster.context, "collected");
        Ok((cluster, c))
    }

    /// Connect and collect on a runtime of its own: the raw lists (for `snapshot save`) and
    /// the context and server they came from.
    pub fn collect(&self, scope: &Scope) -> Result<(Connected, collect::Collected), ClusterError> {
        let rt = crate::runtime::new().map_err(|e| ClusterError::Runtime(e.to_string()))?;
        let (cluster, c) = rt.block_on(self.collect_async(scope))?;
        Ok((
            Connected {
                context: cluster.context,
                server: cluster.server,
            },
            c,
        ))
    }
}

impl Source for LiveSource {
    fn info(&self) -> SourceInfo {
        SourceInfo {
            kind: SourceKind::Live,
            path_or_context: self
                .context
                .get()
                .cloned()
                .or_else(|| self.target.context.clone())
                .unwrap_or_else(|| "current context".into()),
        }
    }

    fn load(&self, scope: &Scope) -> crate::Result<ClusterState> {
        let (_, c) = self.collect(scope)?;
        let mut state = into_state(c);
        if let Scope::Namespace(ns) = scope {
            // A `-n` the server does not have is an error, never an empty all-clear — when the
            // namespace list could be read (credentials limited to one namespace cannot).
            if !state.namespaces.is_empty() {
                super::check_namespace_in(&state, ns, "on the server")?;
            }
            let ns = ns.clone();
            state.retain_namespaces(&move |n| n == ns);
        }
        Ok(state)
    }
}
