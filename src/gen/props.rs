//! A twin property section (`desired` or `reported`) as a flat pre-order list of nodes, so it
//! can be written twice: once as the user tree and once as its `$metadata` mirror.

use super::write::{JsonWriter, Ticks};

/// A primitive property value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Leaf {
    Str(&'static str),
    UInt(u64),
    /// A decimal with one fractional digit: `Tenths(875)` is `87.5`, `Tenths(50)` is `5.0`.
    Tenths(u64),
}

#[derive(Debug, Clone, Copy)]
enum Item {
    Open(&'static str),
    Leaf(&'static str, Leaf),
    Close,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    item: Item,
    /// `$lastUpdated`: for an object node, the latest of its children.
    updated: Ticks,
    /// `$lastUpdatedVersion` (desired only): for an object node, the highest of its children.
    version: u64,
}

/// Which section, since `desired` metadata also carries `$lastUpdatedVersion`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Desired,
    Reported,
}

#[derive(Debug)]
pub(crate) struct Props {
    section: Section,
    nodes: Vec<Node>,
    /// Indices of the `Open` nodes not yet closed.
    open: Vec<usize>,
    /// `$version` of the section.
    pub(crate) version: u64,
    /// `$lastUpdated` of the section root (the latest of all nodes); `floor` when empty.
    updated: Ticks,
}

impl Props {
    pub(crate) fn new(section: Section) -> Props {
        Props {
            section,
            nodes: Vec::with_capacity(32),
            open: Vec::with_capacity(8),
            version: 1,
            updated: 0,
        }
    }

    /// Empty the section for the next record; `floor` is the root's `$lastUpdated` if no node
    /// is added (IoT Hub stamps even an empty section).
    pub(crate) fn reset(&mut self, version: u64, floor: Ticks) {
        self.nodes.clear();
        self.open.clear();
        self.version = version;
        self.updated = floor;
    }

    pub(crate) fn open(&mut self, key: &'static str) {
        self.open.push(self.nodes.len());
        self.nodes.push(Node {
            item: Item::Open(key),
            updated: 0,
            version: 0,
        });
    }

    pub(crate) fn close(&mut self) {
        let at = self.open.pop().expect("close without open");
        self.nodes.push(Node {
            item: Item::Close,
            updated: 0,
            version: 0,
        });
        let (updated, version) = (self.nodes[at].updated, self.nodes[at].version);
        if let Some(&parent) = self.open.last() {
            let p = &mut self.nodes[parent];
            p.updated = p.updated.max(updated);
            p.version = p.version.max(version);
        }
    }

    pub(crate) fn leaf(&mut self, key: &'static str, value: Leaf, updated: Ticks, version: u64) {
        self.nodes.push(Node {
            item: Item::Leaf(key, value),
            updated,
            version,
        });
        if let Some(&parent) = self.open.last() {
            let p = &mut self.nodes[parent];
            p.updated = p.updated.max(updated);
            p.version = p.version.max(version);
        }
        self.updated = self.updated.max(updated);
    }

    /// Write the section as the value of the current key: the user tree, then (when `metadata`)
    /// `$metadata` and `$version`. Returns the bytes taken by the `$metadata` member.
    pub(crate) fn write(&self, w: &mut JsonWriter, metadata: bool) -> u64 {
        debug_assert!(self.open.is_empty());
        w.open_object();
        for node in &self.nodes {
            match node.item {
                Item::Open(key) => w.key_object(key),
                Item::Leaf(key, value) => {
                    w.key(key);
                    match value {
                        Leaf::Str(s) => w.str(s),
                        Leaf::UInt(n) => w.uint(n),
                        Leaf::Tenths(n) => w.tenths(n),
                    }
                }
                Item::Close => w.close_object(),
            }
        }
        let mut metadata_bytes = 0;
        if metadata {
            let start = w.key("$metadata");
            w.open_object();
            self.stamp(w, self.updated, self.version);
            for node in &self.nodes {
                match node.item {
                    Item::Open(key) => {
                        w.key_object(key);
                        self.stamp(w, node.updated, node.version);
                    }
                    Item::Leaf(key, _) => {
                        w.key_object(key);
                        self.stamp(w, node.updated, node.version);
                        w.close_object();
                    }
                    Item::Close => w.close_object(),
                }
            }
            w.close_object();
            metadata_bytes = (w.buf.len() - start) as u64;
            w.key("$version");
            w.uint(self.version);
        }
        w.close_object();
        metadata_bytes
    }

    fn stamp(&self, w: &mut JsonWriter, updated: Ticks, version: u64) {
        w.key("$lastUpdated");
        w.timestamp(updated);
        if self.section == Section::Desired {
            w.key("$lastUpdatedVersion");
            w.uint(version);
        }
    }
}
