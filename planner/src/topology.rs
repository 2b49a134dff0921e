//! The CPU hierarchy: socket -> cluster (arm64) or die (x86) -> core -> thread.
//!
//! The hierarchy is a tree in a `petgraph` graph while it is built and walked;
//! the `Plan` only keeps plain positions. The walk fixes the enumeration
//! order, and with it every CPU index: socket-major, then group, core, thread.

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{Dfs, Walker};

/// A CPU's place in the hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Socket index.
    pub socket: u32,
    /// Cluster or die index within the socket.
    pub group: u32,
    /// Core index within the group.
    pub core: u32,
    /// Thread index within the core.
    pub thread: u32,
    /// System-wide group index.
    pub group_id: u32,
    /// System-wide core index.
    pub core_id: u32,
}

#[derive(Debug, Clone, Copy)]
enum Level {
    Machine,
    Socket(u32),
    Group { local: u32, global: u32 },
    Core { local: u32, global: u32 },
    Thread(u32),
}

/// The hierarchy of one topology.
#[derive(Debug)]
pub struct Hierarchy {
    graph: DiGraph<Level, ()>,
    root: NodeIndex,
}

impl Hierarchy {
    /// Builds the tree from per-socket group core counts.
    #[must_use]
    pub fn new(sockets: &[Vec<u32>], threads: u32) -> Self {
        let mut graph = DiGraph::new();
        let root = graph.add_node(Level::Machine);
        let (mut group_id, mut core_id) = (0, 0);
        for (s, groups) in (0u32..).zip(sockets) {
            let socket = graph.add_node(Level::Socket(s));
            graph.add_edge(root, socket, ());
            for (g, &cores) in (0u32..).zip(groups) {
                let group = graph.add_node(Level::Group {
                    local: g,
                    global: group_id,
                });
                graph.add_edge(socket, group, ());
                group_id += 1;
                for c in 0..cores {
                    let core = graph.add_node(Level::Core {
                        local: c,
                        global: core_id,
                    });
                    graph.add_edge(group, core, ());
                    core_id += 1;
                    for t in 0..threads {
                        let thread = graph.add_node(Level::Thread(t));
                        graph.add_edge(core, thread, ());
                    }
                }
            }
        }
        Self { graph, root }
    }

    /// Every CPU (thread leaf) in enumeration order.
    #[must_use]
    pub fn positions(&self) -> Vec<Position> {
        // Children are visited in creation order: node indices grow with
        // creation, and a depth-first walk that sorts children by index gives
        // socket-major order.
        let mut out = Vec::new();
        let mut stack = vec![(
            self.root,
            Position {
                socket: 0,
                group: 0,
                core: 0,
                thread: 0,
                group_id: 0,
                core_id: 0,
            },
        )];
        while let Some((node, mut pos)) = stack.pop() {
            match self.graph[node] {
                Level::Machine => {}
                Level::Socket(s) => pos.socket = s,
                Level::Group { local, global } => {
                    pos.group = local;
                    pos.group_id = global;
                }
                Level::Core { local, global } => {
                    pos.core = local;
                    pos.core_id = global;
                }
                Level::Thread(t) => {
                    pos.thread = t;
                    out.push(pos);
                    continue;
                }
            }
            let mut children: Vec<NodeIndex> = self.graph.neighbors(node).collect();
            children.sort_unstable_by(|a, b| b.cmp(a));
            stack.extend(children.into_iter().map(|c| (c, pos)));
        }
        out
    }

    /// Number of nodes in the tree (machine, sockets, groups, cores, threads).
    #[must_use]
    pub fn node_count(&self) -> usize {
        Dfs::new(&self.graph, self.root).iter(&self.graph).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_enumeration_is_socket_major() {
        // Socket 0: clusters of 2 and 1 cores; socket 1: one cluster of 1 core; 2 threads.
        let h = Hierarchy::new(&[vec![2, 1], vec![1]], 2);
        let p = h.positions();
        assert_eq!(p.len(), 8);
        let places: Vec<_> = p
            .iter()
            .map(|p| (p.socket, p.group, p.core, p.thread))
            .collect();
        assert_eq!(
            places,
            vec![
                (0, 0, 0, 0),
                (0, 0, 0, 1),
                (0, 0, 1, 0),
                (0, 0, 1, 1),
                (0, 1, 0, 0),
                (0, 1, 0, 1),
                (1, 0, 0, 0),
                (1, 0, 0, 1)
            ]
        );
    }

    #[test]
    fn test_global_ids_count_across_sockets() {
        let h = Hierarchy::new(&[vec![2, 1], vec![1]], 1);
        let ids: Vec<_> = h
            .positions()
            .iter()
            .map(|p| (p.group_id, p.core_id))
            .collect();
        assert_eq!(ids, vec![(0, 0), (0, 1), (1, 2), (2, 3)]);
    }

    #[test]
    fn test_node_count_includes_every_level() {
        // 1 machine + 1 socket + 1 group + 2 cores + 4 threads.
        assert_eq!(Hierarchy::new(&[vec![2]], 2).node_count(), 9);
    }
}
