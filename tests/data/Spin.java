// A tiny JVM for tests/agent.test and the hsperfdata golden file: allocates garbage
// forever (slowly) so that GC counters exist, and prints its pid.
public class Spin {
	public static void main(String[] a) throws Exception {
		System.out.println(ProcessHandle.current().pid());
		System.out.flush();
		Object keep = null;
		for (;;) {
			for (int i = 0; i < 1000; i++)
				keep = new byte[1024];
			Thread.sleep(50);
		}
	}
}
