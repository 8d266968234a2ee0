//! The published tool's counts on the committed 8x8x8 primitive FCC crystal with labels
//! {0, 1, 2} (vacancy 2), and what they count.

mod common;

use gcnet_vce::ExpansionCounts;

#[test]
fn published_counts_mo2_and_mo3() {
    let crystal = common::committed_fcc();
    let counts = |mo, all| common::expansion(&crystal, mo, 0.71, 3, all).counts();
    assert_eq!(
        counts(2, false),
        ExpansionCounts { site_clusters: 7, species_clusters: 51, orbits: 8, interactions: 999, vector_groups: 3 }
    );
    assert_eq!(
        counts(3, false),
        ExpansionCounts { site_clusters: 15, species_clusters: 211, orbits: 15, interactions: 4999, vector_groups: 16 }
    );
    // With -ait every species cluster sits on every one of the 512 translates.
    assert_eq!(counts(2, true).interactions, 51 * 512);
    assert_eq!(counts(3, true).interactions, 211 * 512);
}

#[test]
fn what_the_counts_are() {
    // Species clusters: 3 single sites; pairs: 6 bond directions x 2 like pairs (0-0, 1-1)
    // plus 12 oriented bonds x 3 unlike pairs; triangles: 8 x 20 labellings (27 minus the
    // 7 with two or three vacancies).
    assert_eq!(3 + 6 * 2 + 12 * 3, 51);
    assert_eq!(51 + 8 * 20, 211);
    // Interactions holding site 0 or one of its 12 neighbours: 13 sites x 3 labels; the
    // 13 x 12 bonds at those sites minus the 12 + 24 counted twice, x 8 labellings; 200
    // triangles x 20.
    assert_eq!(13 * 3 + (13 * 12 - 36) * 8, 999);
    assert_eq!(999 + 200 * 20, 4999);
    // Vector groups: the three unlike pairs keep the bond direction (one vector each); the
    // like triangles keep the normal (2), the triangles with two alike keep a mirror plane
    // (4 orbits x 2), the all-different triangle keeps nothing (one orbit, 3 vectors).
    assert_eq!(3 + 2 + 4 * 2 + 3, 16);
    let e = common::expansion(&common::committed_fcc(), 3, 0.71, 3, false);
    let dims: Vec<usize> = e.basis().orbits().iter().map(|o| o.basis.len()).collect();
    assert_eq!(dims.iter().sum::<usize>(), 16);
    assert_eq!(dims.iter().filter(|&&d| d == 3).count(), 1);
    let triangles_with = |d: usize| {
        e.basis()
            .orbits()
            .iter()
            .filter(|o| e.basis().classes().get(o.members[0].0.class).order() == 3 && o.basis.len() == d)
            .count()
    };
    assert_eq!((triangles_with(1), triangles_with(2), triangles_with(3)), (2, 4, 1));
}
