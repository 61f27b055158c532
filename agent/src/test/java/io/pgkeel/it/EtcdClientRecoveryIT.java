package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.common.Clock;
import io.pgkeel.common.dcs.Dcs;
import io.pgkeel.common.dcs.DcsException;
import io.pgkeel.dcs.EtcdDcsFactory;
import io.pgkeel.dcs.EtcdSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * pgkeel's etcd client through a quorum loss of a 3-member etcd (two members frozen for 25 s): during the outage its
 * failed watch wakes the HA loop a few times, not thousands (jetcd reports errors of watchers it resumes itself; each
 * used to start another watch, and an agent with a 64 MB heap died of OutOfMemoryError); after the thaw reads and
 * lease renewals work again within seconds and the watch wakes the loop on a leader key change again.
 */
class EtcdClientRecoveryIT {
    @Test
    void clientRecoversAfterQuorumLoss() throws Exception {
        Path dir = Host.tempDir("pgkeel-it-jetcd-");
        try (EtcdCluster etcd = EtcdCluster.start(dir, EtcdCluster.Options.plain(3))) {
            List<String> urls = etcd.urls();
            AtomicInteger wakes = new AtomicInteger();
            try (Dcs dcs = EtcdDcsFactory.connect(new EtcdSettings(urls, "/service/jr/", "a", Duration.ofSeconds(4),
                    "test", Clock.system()))) {
                dcs.keepAlive(10);
                dcs.watch(wakes::incrementAndGet);
                dcs.read();
                etcd.freeze(1);
                etcd.freeze(2);
                long end = System.nanoTime() + Duration.ofSeconds(25).toNanos();
                int fails = 0;
                while (System.nanoTime() < end) {
                    try {
                        dcs.read();
                        dcs.keepAlive(10);
                    } catch (DcsException e) {
                        fails++;
                    }
                    Thread.sleep(1000);
                }
                int duringOutage = wakes.get();
                System.out.printf("during outage: %d failures, %d wakes, threads %d, heap used %d MB%n", fails,
                        duringOutage, Thread.activeCount(), used());
                etcd.thaw(1);
                etcd.thaw(2);
                long thawed = System.nanoTime();
                Long recovered = null;
                while (System.nanoTime() - thawed < Duration.ofSeconds(40).toNanos()) {
                    try {
                        dcs.read();
                        dcs.keepAlive(10);
                        recovered = (System.nanoTime() - thawed) / 1_000_000;
                        break;
                    } catch (DcsException e) {
                        System.out.println("after thaw: " + e.getMessage());
                    }
                    Thread.sleep(1000);
                }
                System.out.printf("recovered after %s ms, %d wakes, threads %d, heap used %d MB%n", recovered,
                        wakes.get(), Thread.activeCount(), used());
                int before = wakes.get();
                etcd.put("/service/jr/leader", "x");
                Thread.sleep(2000);
                long putAt = System.nanoTime();
                Long woken = null;
                for (int i = 0; i < 30 && woken == null; i++) {
                    etcd.put("/service/jr/leader", "x" + i);
                    Thread.sleep(500);
                    if (wakes.get() > before) {
                        woken = (System.nanoTime() - putAt) / 1_000_000;
                    }
                }
                System.out.printf("watch woke the loop %s ms after the first put%n", woken);
                assertThat(duringOutage).as("wake-ups during a 25 s quorum loss").isLessThan(60);
                assertThat(recovered).as("reads and lease renewals work again within 40 s of the thaw").isNotNull();
                assertThat(woken).as("the watch works again within 15 s").isNotNull();
            }
        } finally {
            Host.deleteTree(dir);
        }
    }

    private static long used() {
        Runtime r = Runtime.getRuntime();
        return (r.totalMemory() - r.freeMemory()) >> 20;
    }
}
